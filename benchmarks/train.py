"""Benchmark of training: the course's ``fit`` against a plain PyTorch DataLoader loop.

    python benchmarks/train.py            # all models, 1 and 2 threads (a few minutes on 2 cores)
    python benchmarks/train.py --quick    # fewer steps

For each network of the course it trains the same model for the same number of Adam steps
twice, once with :func:`utils.train.fit` and once with the reference loop every PyTorch
tutorial writes (``DataLoader(TensorDataset(x), shuffle=True)``, ``zero_grad``,
``backward``, ``step``), and prints samples per second for each, the forward FLOPs per
sample (counted by ``torch.utils.flop_counter``) and the inference rate of the encoder.
MNIST models train on real MNIST digits (``$COURSE_DATA_DIR``); the SLM and star networks
on random inputs of their shape (their speed does not depend on the values). Run it on an
otherwise idle machine; on a GPU the same script measures the CUDA path.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from utils import seed_everything
from utils.data import load_mnist
from utils.device import get_device
from utils.losses import vae_loss
from utils.models import ConvAutoencoder, ConvVAE, SLMAutoencoder, StarAutoencoder
from utils.train import fit, reconstruction_loss


def _mnist(n: int) -> torch.Tensor:
    images, _ = load_mnist("train")
    return torch.as_tensor(images[:n], dtype=torch.float32).div(255).unsqueeze(1)


def _cases(n: int) -> list[tuple[str, type, torch.Tensor, callable]]:
    mnist = _mnist(n)
    generator = torch.Generator().manual_seed(0)
    one_hot = torch.nn.functional.one_hot(torch.randint(0, 11, (n, 30), generator=generator), 11).float()
    colours = torch.randn(n, 5, generator=generator)

    def slm_loss(model, x):
        return torch.nn.functional.cross_entropy(model(x).transpose(1, 2), x.argmax(-1))

    return [
        ("ConvAutoencoder (MNIST)", ConvAutoencoder, mnist, reconstruction_loss),
        ("ConvVAE (MNIST)", ConvVAE, mnist, vae_loss),
        ("SLMAutoencoder (30x11)", SLMAutoencoder, one_hot, slm_loss),
        ("StarAutoencoder (5)", StarAutoencoder, colours, reconstruction_loss),
    ]


def reference_loop(model, x, loss_fn, steps, batch_size, device) -> float:
    """The plain PyTorch loop; returns seconds for ``steps`` optimizer steps."""
    loader = DataLoader(TensorDataset(x), batch_size=batch_size, shuffle=True, drop_last=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.to(device).train()
    done = 0
    start = time.perf_counter()
    while done < steps:
        for (batch,) in loader:
            batch = batch.to(device)
            optimizer.zero_grad()
            loss_fn(model, batch).backward()
            optimizer.step()
            done += 1
            if done == steps:
                break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def course_fit(model, x, loss_fn, steps, batch_size, device) -> float:
    start = time.perf_counter()
    fit(model, x, loss_fn=loss_fn, epochs=10**6, batch_size=batch_size, max_steps=steps,
        device=device, progress=False)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def forward_flops(model, x) -> float:
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x[:1])
    return counter.get_total_flops()


@torch.no_grad()
def inference_rate(model, x, device, repeats: int = 3) -> float:
    model.to(device).eval()
    batch = x[:1024].to(device)
    model.encoder(batch)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        model.encoder(batch)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return repeats * len(batch) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    steps = 10 if args.quick else 40
    device = get_device()
    threads = args.threads if device.type == "cpu" else [torch.get_num_threads()]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}, device {device}; {steps} Adam steps of batch "
          f"{args.batch_size} per run (after 2 warm-up steps)")
    header = (f"{'model':<24} {'threads':>7} {'MFLOP/sample':>12} {'fit /s':>9} "
              f"{'loop /s':>9} {'fit/loop':>8} {'encode /s':>10}")
    print(header)
    print("-" * len(header))
    cases = _cases(max(4096, (steps + 2) * args.batch_size))
    for name, make, x, loss_fn in cases:
        flops = forward_flops(make(), x)
        for n_threads in threads:
            torch.set_num_threads(n_threads)
            rates = {}
            for label, runner in (("fit", course_fit), ("loop", reference_loop)):
                seed_everything(0)
                model = make()
                runner(model, x, loss_fn, 2, args.batch_size, device)  # warm-up
                seconds = runner(model, x, loss_fn, steps, args.batch_size, device)
                rates[label] = steps * args.batch_size / seconds
            encode = inference_rate(make(), x, device)
            print(f"{name:<24} {n_threads:>7} {flops / 1e6:>12.2f} {rates['fit']:>9.0f} "
                  f"{rates['loop']:>9.0f} {rates['fit'] / rates['loop']:>8.2f} {encode:>10.0f}")


if __name__ == "__main__":
    main()
