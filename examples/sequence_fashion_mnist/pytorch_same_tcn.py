# The same temporal convolutional network in PyTorch (37,322 parameters, as latent's: causal
# Conv1d of kernel 2 at dilations 1, 2, 4, 8, 16, each padded on the left only, then the last
# step into Linear(64, 10)), timed for one epoch's 844 training steps of batch 64 on two CPU
# threads, on random data of Fashion-MNIST's shape: what examples/sequence_fashion_mnist/README.md
# compares latent's epoch time with.
#   /usr/bin/python3 examples/sequence_fashion_mnist/pytorch_same_tcn.py
import time, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2)
torch.manual_seed(0)
class CausalConv(nn.Module):
    def __init__(s, cin, cout, dilation):
        super().__init__()
        s.pad = dilation  # (kernel - 1) * dilation, all before the first step
        s.conv = nn.Conv1d(cin, cout, 2, dilation=dilation)
    def forward(s, x):
        return F.relu(s.conv(F.pad(x, (s.pad, 0))))
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.convs = nn.Sequential(CausalConv(28, 64, 1), *[CausalConv(64, 64, d) for d in (2, 4, 8, 16)])
        s.head = nn.Linear(64, 10)
    def forward(s, x):  # x (batch, steps, features) as latent's; Conv1d wants (batch, channels, steps)
        return s.head(s.convs(x.transpose(1, 2))[:, :, -1])
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
