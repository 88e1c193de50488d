"""Training and inference throughput of the readout SNN (and the ANN baseline), in events per second.

    python benchmarks/bench_train.py                       # random spikes, 400-50-30-1, 2 threads
    python benchmarks/bench_train.py --data data.h5 --hidden 120,120,20 --threads 1

The SNN's cost does not depend on what the spikes mean (dense matmuls, one neuron update per
tick), so random inputs at the data's spike density measure the same thing as real events.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.nn import functional as F

from neurocal.models.networks import ANN, SNN


def _inputs(args: argparse.Namespace) -> torch.Tensor:
    if args.data:
        from neurocal.models.data import encode, load_events

        events = load_events(args.data).subset(slice(0, args.events))
        return torch.from_numpy(encode(events, [1e2, 1e3, 1e4, 1e5]))
    gen = torch.Generator().manual_seed(0)
    return torch.rand(args.events, args.ticks, 400, generator=gen) < args.density


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:10.1f} events/s"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="neurocal HDF5 / .dat dataset (default: random spikes)")
    p.add_argument("--events", type=int, default=512)
    p.add_argument("--ticks", type=int, default=100)
    p.add_argument("--density", type=float, default=0.01, help="spike probability per channel and tick")
    p.add_argument("--hidden", default="50,30")
    p.add_argument("--outputs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    hidden = [int(v) for v in args.hidden.split(",")]
    x = _inputs(args)
    y = torch.randn(len(x), args.outputs)
    print(f"{len(x)} events × {x.shape[1]} ticks × {x.shape[2]} channels, spike density {x.float().mean():.4f}, "
          f"net {x.shape[2]}-{args.hidden}-{args.outputs}, batch {args.batch_size}, {args.threads} threads")
    for name, model in (("snn", SNN(x.shape[2], hidden, args.outputs)), ("ann", ANN(x.shape[2], hidden, args.outputs))):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        model(x[: args.batch_size]).sum().backward()  # warm-up
        t0 = time.perf_counter()
        for i in range(0, len(x), args.batch_size):
            opt.zero_grad()
            F.mse_loss(model(x[i : i + args.batch_size]), y[i : i + args.batch_size]).backward()
            opt.step()
        train_s = time.perf_counter() - t0
        model.eval()
        t0 = time.perf_counter()
        with torch.no_grad():
            for i in range(0, len(x), 256):
                model(x[i : i + 256])
        infer_s = time.perf_counter() - t0
        print(f"{name}: train {_rate(len(x), train_s)}   inference {_rate(len(x), infer_s)}")


if __name__ == "__main__":
    main()
