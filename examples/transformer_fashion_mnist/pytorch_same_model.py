# The same Transformer encoder in PyTorch (37,770 parameters, as latent's), timed for one epoch's
# 844 training steps of batch 64 on two CPU threads, on random data of Fashion-MNIST's shape:
# what examples/transformer_fashion_mnist/README.md compares latent's epoch time with.
#   /usr/bin/python3 examples/transformer_fashion_mnist/pytorch_same_model.py
import time, torch, torch.nn as nn
torch.set_num_threads(2)
torch.manual_seed(0)
class Block(nn.Module):
    def __init__(s, d=64, h=4, ff=128):
        super().__init__()
        s.att = nn.MultiheadAttention(d, h, batch_first=True)
        s.n1 = nn.LayerNorm(d, eps=1e-6); s.n2 = nn.LayerNorm(d, eps=1e-6)
        s.ff = nn.Sequential(nn.Linear(d, ff), nn.ReLU(), nn.Linear(ff, d))
    def forward(s, x):
        a, _ = s.att(x, x, x, need_weights=False)
        x = s.n1(x + a)
        return s.n2(x + s.ff(x))
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.embed = nn.Linear(28, 64); s.pos = nn.Parameter(torch.randn(28, 64) * 0.1)
        s.block = Block(); s.head = nn.Linear(64, 10)
    def forward(s, x):
        x = s.embed(x) + s.pos
        return s.head(s.block(x).mean(1))
net = Net()
print(sum(p.numel() for p in net.parameters()))
opt = torch.optim.Adam(net.parameters(), 1e-3)
lossf = nn.CrossEntropyLoss()
x = torch.rand(54000, 28, 28); y = torch.randint(0, 10, (54000,))
def epoch(steps):
    for i in range(steps):
        xb = x[i*64:(i+1)*64]; yb = y[i*64:(i+1)*64]
        opt.zero_grad(); l = lossf(net(xb), yb); l.backward(); opt.step()
epoch(20)
t = time.perf_counter(); epoch(844); dt = time.perf_counter() - t
print(f"torch {torch.__version__}: {dt:.2f} s for 844 steps, {dt/844*1000:.2f} ms/step")
