"""Print PyTorch's CPU capability and a fingerprint of float32 arithmetic that depends on it.

.ci/run calls this natively and under ATEN_CPU_CAPABILITY=default, and fails unless both the
capability and the fingerprint differ: only then does the second nbval pass over the chapters
really see another CPU's arithmetic (softmax and tanh take other vectorised paths).
"""

import torch

generator = torch.Generator().manual_seed(0)
x = torch.randn(100_000, generator=generator)
fingerprint = (torch.softmax(x, 0).max().item().hex(), torch.tanh(x).sum().item().hex())
print(torch.backends.cpu.get_cpu_capability(), *fingerprint)
