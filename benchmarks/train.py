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

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from utils import seed_everything
from utils.data import images_to_tensor, load_mnist
from utils.device import get_device
from utils.losses import vae_loss
from utils.models import ConvAutoencoder, ConvVAE, SLMAutoencoder, StarAutoencoder
from utils.train import fit, reconstruction_loss


def _mnist(n: int) -> torch.Tensor:
    images, _ = load_mnist("train")
    return images_to_tensor(images[:n])


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
    """The plain PyTorch loop (float32, default memory layout); seconds for ``steps`` steps."""
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


def course_fit(model, x, loss_fn, steps, batch_size, device, **options) -> float:
    start = time.perf_counter()
    fit(model, x, loss_fn=loss_fn, epochs=10**6, batch_size=batch_size, max_steps=steps,
        device=device, progress=False, **options)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


@torch.no_grad()
def final_loss(model, x, loss_fn, device) -> float:
    """The loss on the first 1,024 samples after training (same samples for every runner)."""
    model.eval()
    torch.manual_seed(0)  # the VAE loss samples z
    return float(loss_fn(model, x[:1024].to(device)))


def peak_rates(device, repeats: int = 5) -> dict[str, float]:
    """GFLOP/s of a large matmul and of the conv AE's widest convolution, fp32 and bf16."""
    rates = {}
    a = torch.randn(2048, 2048, device=device)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).to(device).to(memory_format=torch.channels_last)
    image = torch.randn(256, 64, 14, 14, device=device).contiguous(memory_format=torch.channels_last)
    conv_flops = 2 * 64 * 64 * 9 * 14 * 14 * 256
    for dtype in (torch.float32, torch.bfloat16):
        for name, run, flops in (("matmul", lambda: a @ a, 2 * 2048**3),
                                 ("conv", lambda: conv(image), conv_flops)):
            with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16,
                                                 enabled=dtype is torch.bfloat16):
                run()
                start = time.perf_counter()
                for _ in range(repeats):
                    run()
                if device.type == "cuda":
                    torch.cuda.synchronize()
            rates[f"{name} {str(dtype).split('.')[-1]}"] = (
                repeats * flops / (time.perf_counter() - start) / 1e9)
    return rates


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
    parser.add_argument("--compile", action="store_true", help="also time fit(compile=True)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per runner; the median counts")
    args = parser.parse_args()
    steps = 10 if args.quick else 40
    device = get_device()
    from utils.train import cpu_has_bf16

    amp_works = device.type == "cuda" or cpu_has_bf16()
    threads = args.threads if device.type == "cpu" else [torch.get_num_threads()]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}, device {device}; {steps} Adam steps of batch "
          f"{args.batch_size} per run (after 2 warm-up steps), median of {args.repeats} "
          "interleaved runs")
    runners = {"fit": (course_fit, {}), "loop": (reference_loop, {})}
    if amp_works:
        runners["fit bf16"] = (course_fit, {"amp": True})
    if args.compile:
        runners["fit compile"] = (course_fit, {"compile": True})
    header = (f"{'model':<24} {'threads':>7} {'MFLOP/sample':>12} "
              + " ".join(f"{name + ' /s':>14}" for name in runners)
              + " " + " ".join(f"{name + '/loop':>16}" for name in runners if name != "loop")
              + f" {'loss fit | loop | bf16':>26} {'encode /s':>10}")
    print(header)
    print("-" * len(header))
    cases = _cases(max(4096, (steps + 2) * args.batch_size))
    conv_rates = {}
    for name, make, x, loss_fn in cases:
        flops = forward_flops(make(), x)
        for n_threads in threads:
            torch.set_num_threads(n_threads)
            samples, losses = {label: [] for label in runners}, {}
            for _ in range(args.repeats):  # interleaved, so drifts of a shared machine hit all
                for label, (runner, options) in runners.items():
                    seed_everything(0)
                    model = make()
                    runner(model, x, loss_fn, 2, args.batch_size, device, **options)  # warm-up
                    seconds = runner(model, x, loss_fn, steps, args.batch_size, device, **options)
                    samples[label].append(steps * args.batch_size / seconds)
                    losses[label] = final_loss(model, x, loss_fn, device)
            rates = {label: float(np.median(v)) for label, v in samples.items()}
            if "Conv" in name:
                conv_rates[(name, n_threads)] = (flops, rates)
            encode = inference_rate(make(), x, device)
            loss_text = " | ".join(f"{losses[k]:.4g}" for k in ("fit", "loop", "fit bf16") if k in losses)
            print(f"{name:<24} {n_threads:>7} {flops / 1e6:>12.2f} "
                  + " ".join(f"{rates[k]:>14.0f}" for k in runners)
                  + " " + " ".join(f"{rates[k] / rates['loop']:>16.2f}" for k in runners if k != "loop")
                  + f" {loss_text:>26} {encode:>10.0f}", flush=True)
    print("\nPeak rates of this machine (GFLOP/s) and the share that conv training reaches")
    print("(training FLOPs = 3 x forward: the backward pass costs about twice the forward):")
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        peaks = peak_rates(device)
        print(f"  {n_threads} thread(s): " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
        for (name, t), (flops, rates) in conv_rates.items():
            if t != n_threads:
                continue
            for label, rate in rates.items():
                gflops = 3 * flops * rate / 1e9
                peak = peaks["conv bfloat16" if "bf16" in label else "conv float32"]
                print(f"    {name:<24} {label:<12} {gflops:6.1f} GFLOP/s = {gflops / peak:5.1%} "
                      f"of the {'bf16' if 'bf16' in label else 'fp32'} conv peak; "
                      f"MNIST epoch {60000 / rate:5.0f} s")


if __name__ == "__main__":
    main()
