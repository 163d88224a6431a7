#!/usr/bin/python3
"""PyTorch-on-the-CPU reference for `npm run bench` (scripts/bench.mjs runs it with /usr/bin/python3).

Trains the benchmark's two models the way the studio's bench page does (src/routes/bench/+page.svelte):

- mlp: a seeded synthetic 3-class table of 32 uniform features, standardized on the training rows,
  32-64-64-3 with ReLU;
- cnn: seeded 32x32x3 images of three pattern classes (horizontal stripes, vertical stripes, a square),
  scaled to [0, 1] and standardized per channel, conv 3x3x16 relu, max-pool 2, conv 3x3x32 relu,
  max-pool 2, flatten, dense 64 relu, dense 3;

with Adam (lr 1e-3, beta2 0.999, eps 1e-7 as in tfjs), batch 256, a seeded shuffle per epoch, the same
80/20 train/test split, and prints one JSON object on stdout: per model, time to the first step, the first
epoch and the median of the later epochs in ms and samples/s, and test accuracy. The data are made here
with the same recipe, not the same bytes: throughput does not depend on the values.

Without torch it prints {"available": false, "reason": "not installed"} and exits 0: benchmarks record,
they never fail.
"""
import argparse
import json
import math
import platform
import statistics
import sys
import time

TEST_FRACTION = 0.2
BATCH_SIZE = 256
CLASSES = 3
FEATURES = 32
IMAGE = 32


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="mlp,cnn", help="comma-separated: mlp, cnn")
    parser.add_argument("--mlp-rows", type=int, default=20000)
    parser.add_argument("--mlp-epochs", type=int, default=10)
    parser.add_argument("--cnn-rows", type=int, default=2000)
    parser.add_argument("--cnn-epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 keeps torch's default")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def split_sizes(rows):
    test = min(rows - 1, max(1, round(rows * TEST_FRACTION)))
    return rows - test, test


def mlp_data(torch, rows, seed):
    """The page's recipe: the label is the argmax of three fixed linear scores plus a little noise."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(rows, FEATURES, generator=g) * 2 - 1
    w = torch.rand(FEATURES, CLASSES, generator=g) * 2 - 1
    noise = (torch.rand(rows, CLASSES, generator=g) - 0.5) * 0.2
    y = torch.argmax(x @ w + noise, dim=1)
    return x, y


def cnn_data(torch, rows, seed):
    """Three classes of patterns with random colours, phase and position, plus pixel noise (NCHW, 0-1)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(rows) % CLASSES
    images = torch.empty(rows, 3, IMAGE, IMAGE)
    coords = torch.arange(IMAGE)
    for i in range(rows):
        fg = torch.rand(3, 1, 1, generator=g)
        bg = torch.rand(3, 1, 1, generator=g)
        label = int(y[i])
        period = 4 + int(torch.randint(0, 5, (1,), generator=g))
        phase = int(torch.randint(0, period, (1,), generator=g))
        if label == 0:
            mask = (((coords + phase) // (period // 2 or 1)) % 2 == 0).view(IMAGE, 1).expand(IMAGE, IMAGE)
        elif label == 1:
            mask = (((coords + phase) // (period // 2 or 1)) % 2 == 0).view(1, IMAGE).expand(IMAGE, IMAGE)
        else:
            size = 8 + int(torch.randint(0, 12, (1,), generator=g))
            top = int(torch.randint(0, IMAGE - size, (1,), generator=g))
            left = int(torch.randint(0, IMAGE - size, (1,), generator=g))
            mask = torch.zeros(IMAGE, IMAGE, dtype=torch.bool)
            mask[top : top + size, left : left + size] = True
        image = torch.where(mask, fg, bg)
        images[i] = (image + (torch.rand(3, IMAGE, IMAGE, generator=g) - 0.5) * 0.1).clamp(0, 1)
    return images, y


def mlp_model(nn):
    return nn.Sequential(
        nn.Linear(FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, CLASSES)
    )


def cnn_model(nn):
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * (IMAGE // 4) ** 2, 64),
        nn.ReLU(),
        nn.Linear(64, CLASSES),
    )


def standardize(torch, train, test, dims):
    mean = train.mean(dim=dims, keepdim=True)
    std = train.std(dim=dims, unbiased=False, keepdim=True)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return (train - mean) / std, (test - mean) / std


def run(torch, kind, rows, epochs, seed):
    nn = torch.nn
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    x, y = mlp_data(torch, rows, seed) if kind == "mlp" else cnn_data(torch, rows, seed)
    data_ms = (time.perf_counter() - t0) * 1000

    started = time.perf_counter()
    order = torch.randperm(rows, generator=torch.Generator().manual_seed(seed))
    train_rows, _ = split_sizes(rows)
    test_idx, train_idx = order[: rows - train_rows], order[rows - train_rows :]
    dims = (0,) if kind == "mlp" else (0, 2, 3)
    x_train, x_test = standardize(torch, x[train_idx], x[test_idx], dims)
    y_train, y_test = y[train_idx], y[test_idx]
    model = mlp_model(nn) if kind == "mlp" else cnn_model(nn)
    # tfjs's Adam defaults: epsilon 1e-7 (PyTorch's is 1e-8).
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    first_step_ms = None
    durations = []
    for epoch in range(epochs):
        epoch_start = time.perf_counter()
        model.train()
        perm = torch.randperm(train_rows, generator=torch.Generator().manual_seed(seed * 1000 + epoch))
        loss_sum = torch.zeros(())
        for start in range(0, train_rows, BATCH_SIZE):
            idx = perm[start : start + BATCH_SIZE]
            xb, yb = x_train[idx], y_train[idx]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            # Summed without reading back per batch, as the studio's trainer does.
            loss_sum += loss.detach() * len(idx)
            if first_step_ms is None:
                first_step_ms = (time.perf_counter() - started) * 1000
        loss_value = float(loss_sum) / train_rows
        if not math.isfinite(loss_value):
            raise RuntimeError(f"{kind}: the loss became {loss_value} at epoch {epoch + 1}")
        durations.append((time.perf_counter() - epoch_start) * 1000)

    model.eval()
    with torch.no_grad():
        correct = 0
        for start in range(0, len(y_test), 2048):
            logits = model(x_test[start : start + 2048])
            correct += int((logits.argmax(dim=1) == y_test[start : start + 2048]).sum())
    first = durations[0]
    steady = statistics.median(durations[1:]) if len(durations) > 1 else first
    return {
        "rows": rows,
        "trainRows": train_rows,
        "epochs": epochs,
        "batchSize": BATCH_SIZE,
        "batches": math.ceil(train_rows / BATCH_SIZE),
        "dataMs": data_ms,
        "firstStepMs": first_step_ms,
        "firstEpochMs": first,
        "steadyEpochMs": steady,
        "epochMs": durations,
        "firstEpochSamplesPerSec": train_rows / first * 1000,
        "steadySamplesPerSec": train_rows / steady * 1000,
        "accuracy": correct / max(1, len(y_test)),
        "loss": loss_value,
    }


def main():
    args = parse_args()
    import_start = time.perf_counter()
    try:
        import torch
    except ImportError as err:
        print(json.dumps({"available": False, "reason": "not installed", "detail": str(err)}))
        return
    import_ms = (time.perf_counter() - import_start) * 1000
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    report = {
        "available": True,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "interopThreads": torch.get_num_interop_threads(),
        "importMs": import_ms,
        "models": {},
    }
    sizes = {"mlp": (args.mlp_rows, args.mlp_epochs), "cnn": (args.cnn_rows, args.cnn_epochs)}
    for kind in [m for m in args.models.split(",") if m in sizes]:
        rows, epochs = sizes[kind]
        try:
            report["models"][kind] = run(torch, kind, rows, max(1, epochs), args.seed)
        except Exception as err:  # recorded, never fatal: a benchmark measures and records
            report["models"][kind] = {"error": f"{type(err).__name__}: {err}"}
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
