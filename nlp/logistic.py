"""L2-penalised logistic regression by damped Newton's method, in pure Python (the close model's fit).

Small problems only: about ten inputs and up to a few tens of thousands of rows (no numpy at run time)."""
from __future__ import annotations

import math


def newton_logistic(x: list[list[float]], y: list[float], targets: list[float],
                    l2: float, iterations: int = 25) -> tuple[float, list[float]]:
    """Minimise log-loss + l2/2 · ||w − targets||² (bias unpenalised) by Newton's method."""
    d = len(x[0])
    w = [0.0] + list(targets)            # parameter 0 is the bias
    rows = [[1.0] + row for row in x]
    for _ in range(iterations):
        grad = [0.0] * (d + 1)
        hess = [[0.0] * (d + 1) for _ in range(d + 1)]
        for row, label in zip(rows, y):
            p = sigmoid(sum(a * b for a, b in zip(w, row)))
            err, curv = p - label, max(p * (1 - p), 1e-9)
            for i in range(d + 1):
                grad[i] += err * row[i]
                ci = curv * row[i]
                hess_i = hess[i]
                for j in range(i + 1):
                    hess_i[j] += ci * row[j]
        for i in range(d + 1):
            for j in range(i):
                hess[j][i] = hess[i][j]
        for i in range(1, d + 1):
            grad[i] += l2 * (w[i] - targets[i - 1])
            hess[i][i] += l2
        step = _solve(hess, grad)
        # Damped: halve the step until the penalised loss goes down (plain Newton overshoots when
        # the starting prior is far off and p(1-p) is tiny).
        current = _penalised_loss(w, rows, y, targets, l2)
        scale = 1.0
        while scale > 1e-4:
            trial = [a - scale * b for a, b in zip(w, step)]
            if _penalised_loss(trial, rows, y, targets, l2) <= current + 1e-12:
                break
            scale /= 2
        w = [a - scale * b for a, b in zip(w, step)]
        if max(abs(scale * s) for s in step) < 1e-6:
            break
    return w[0], w[1:]


def _penalised_loss(w: list[float], rows: list[list[float]], y: list[float], targets: list[float], l2: float) -> float:
    loss = 0.0
    for row, label in zip(rows, y):
        z = sum(a * b for a, b in zip(w, row))
        loss += math.log1p(math.exp(-abs(z))) + max(z, 0.0) - label * z   # log(1 + e^z) - y·z, stable
    return loss + l2 / 2 * sum((a - t) ** 2 for a, t in zip(w[1:], targets))


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the systems here are 11×11)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        if abs(m[col][col]) < 1e-12:
            continue
        for r in range(col + 1, n):
            factor = m[r][col] / m[col][col]
            if factor:
                for c in range(col, n + 1):
                    m[r][c] -= factor * m[col][c]
    out = [0.0] * n
    for r in range(n - 1, -1, -1):
        if abs(m[r][r]) < 1e-12:
            continue
        out[r] = (m[r][n] - sum(m[r][c] * out[c] for c in range(r + 1, n))) / m[r][r]
    return out


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
