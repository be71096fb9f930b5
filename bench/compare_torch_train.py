#!/usr/bin/env python3
"""Optional: the same MLP training step in PyTorch (CPU), for a ratio against bench_train.

Architecture 784-512-256-10, ReLU, softmax cross-entropy, Adam, batch 128, synthetic uniform
pixels, the same thread count. Usage:
    python3 bench/compare_torch_train.py THREADS [BENCH_TRAIN_BINARY]
Prints torch images/s and, when the bench binary is given, the ratio regimes / torch.
Needs python3-torch (never required by the build or the tests)."""
import re
import subprocess
import sys
import time

try:
    import torch
except ImportError:
    print("compare_torch_train: python3-torch is not installed; nothing to compare")
    sys.exit(0)

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(1)
net = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                          torch.nn.ReLU(), torch.nn.Linear(256, 10))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
X = torch.rand(4096, 784)
y = torch.arange(4096) % 10
loss_fn = torch.nn.CrossEntropyLoss()


def step(i):
    b = (i * 128) % (4096 - 128)
    opt.zero_grad()
    loss = loss_fn(net(X[b:b + 128]), y[b:b + 128])
    loss.backward()
    opt.step()


for i in range(5):
    step(i)
t0 = time.perf_counter()
steps = 200
for i in range(steps):
    step(i)
ips = steps * 128 / (time.perf_counter() - t0)
print(f"torch {torch.__version__}, threads {threads}: {ips:.0f} images/s")
if len(sys.argv) > 2:
    out = subprocess.run([sys.argv[2], str(threads)], capture_output=True, text=True, check=True).stdout
    m = re.search(r"batch 128: (\d+) images/s", out)
    if m:
        print(f"regimes {m.group(1)} images/s: ratio regimes / torch = {int(m.group(1)) / ips:.2f}")
