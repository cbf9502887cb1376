"""Flower peer for bench/privacy_federated_bench.ts: the same logistic
regression, data partitions, rounds and clients as Mercury's federated run,
as real processes (one Flower server, N Flower clients over gRPC on
loopback), not Flower's simulation engine.

Local training visits rows in the same order as Mercury's clients: the same
mulberry32 generator and Fisher-Yates shuffle (lib/random.ts,
plugins/privacy/federated/data.ts) seeded with the round's seed, so both
systems compute the same updates up to floating-point rounding.

server: flower_peer.py server PORT ROUNDS CLIENTS DIM TEST_JSON OUT_JSON SEED
client: flower_peer.py client PORT DATA_JSON EPOCHS LR BATCH
"""
import json
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import flwr as fl  # noqa: E402


def load(path):
    t = json.load(open(path))
    d = t["d"]
    return np.asarray(t["x"], dtype=np.float64).reshape(-1, d), np.asarray(t["y"], dtype=np.float64)


MASK = 0xFFFFFFFF


def mulberry32(seed):
    """lib/random.ts's seededRandom, in unsigned 32-bit arithmetic."""
    state = seed & MASK

    def rnd():
        nonlocal state
        state = (state + 0x6D2B79F5) & MASK
        t = state
        t = ((t ^ (t >> 15)) * (t | 1)) & MASK
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & MASK)) & MASK
        return ((t ^ (t >> 14)) & MASK) / 4294967296

    return rnd


def permutation(n, seed):
    """plugins/privacy/federated/data.ts's permutation."""
    rnd = mulberry32(seed)
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        k = int(rnd() * (i + 1))
        p[i], p[k] = p[k], p[i]
    return np.asarray(p)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def evaluate_weights(w, x, y):
    p = sigmoid(x @ w[:-1] + w[-1])
    q = np.clip(p, 1e-12, 1 - 1e-12)
    loss = float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    return loss, float(np.mean((p >= 0.5) == (y == 1)))


def server(port, rounds, clients, dim, test_path, out_path, seed):
    x, y = load(test_path)
    final = {}

    def evaluate(server_round, parameters, config):
        loss, acc = evaluate_weights(parameters[0], x, y)
        final.update(round=server_round, loss=loss, accuracy=acc)
        final.setdefault("evaluated_at", []).append(time.perf_counter())
        return loss, {"accuracy": acc}

    strategy = fl.server.strategy.FedAvg(
        fraction_fit=1.0,
        fraction_evaluate=0.0,
        min_fit_clients=clients,
        min_evaluate_clients=0,
        min_available_clients=clients,
        evaluate_fn=evaluate,
        on_fit_config_fn=lambda server_round: {"seed": seed * 1000 + server_round},
        initial_parameters=fl.common.ndarrays_to_parameters([np.zeros(dim)]),
    )
    fl.server.start_server(
        server_address=f"127.0.0.1:{port}",
        config=fl.server.ServerConfig(num_rounds=rounds),
        strategy=strategy,
    )
    json.dump(final, open(out_path, "w"))


def client(port, data_path, epochs, lr, batch):
    x, y = load(data_path)
    n = len(y)

    class LogReg(fl.client.NumPyClient):
        def get_parameters(self, config):
            return [np.zeros(x.shape[1] + 1)]

        def fit(self, parameters, config):
            w = parameters[0].copy()
            for e in range(epochs):
                order = permutation(n, int(config["seed"]) * 7919 + e)
                for b in range(0, n, batch):
                    i = order[b : b + batch]
                    r = sigmoid(x[i] @ w[:-1] + w[-1]) - y[i]
                    w[:-1] -= lr * (x[i].T @ r) / len(i)
                    w[-1] -= lr * r.mean()
            return [w], n, {}

        def evaluate(self, parameters, config):
            loss, acc = evaluate_weights(parameters[0], x, y)
            return loss, n, {"accuracy": acc}

    fl.client.start_client(server_address=f"127.0.0.1:{port}", client=LogReg().to_client())


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "server":
        server(int(a[2]), int(a[3]), int(a[4]), int(a[5]), a[6], a[7], int(a[8]))
    else:
        client(int(a[2]), a[3], int(a[4]), float(a[5]), int(a[6]))
