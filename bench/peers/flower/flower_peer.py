"""Flower peer for bench/privacy_federated_bench.ts: the same logistic
regression, data partitions, rounds and clients as Mercury's federated run,
as real processes (one Flower server, N Flower clients over gRPC on
loopback), not Flower's simulation engine.

server: flower_peer.py server PORT ROUNDS CLIENTS DIM TEST_JSON OUT_JSON
client: flower_peer.py client PORT DATA_JSON EPOCHS LR BATCH SEED
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


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def evaluate_weights(w, x, y):
    p = sigmoid(x @ w[:-1] + w[-1])
    q = np.clip(p, 1e-12, 1 - 1e-12)
    loss = float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    return loss, float(np.mean((p >= 0.5) == (y == 1)))


def server(port, rounds, clients, dim, test_path, out_path):
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
        initial_parameters=fl.common.ndarrays_to_parameters([np.zeros(dim)]),
    )
    fl.server.start_server(
        server_address=f"127.0.0.1:{port}",
        config=fl.server.ServerConfig(num_rounds=rounds),
        strategy=strategy,
    )
    json.dump(final, open(out_path, "w"))


def client(port, data_path, epochs, lr, batch, seed):
    x, y = load(data_path)
    n = len(y)
    rng = np.random.default_rng(seed)

    class LogReg(fl.client.NumPyClient):
        def get_parameters(self, config):
            return [np.zeros(x.shape[1] + 1)]

        def fit(self, parameters, config):
            w = parameters[0].copy()
            for _ in range(epochs):
                order = rng.permutation(n)
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
        server(int(a[2]), int(a[3]), int(a[4]), int(a[5]), a[6], a[7])
    else:
        client(int(a[2]), a[3], int(a[4]), float(a[5]), int(a[6]), int(a[7]))
