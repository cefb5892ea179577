"""Fast n-pulse update for the affine pulse models, with per-device constants precomputed.

Same mathematics as ``pulse_counts._affine_moments`` (the float64 reference),
rewritten in conductance units about each device's fixed point G* and
arranged for speed on whole tiles:

* every per-device, per-direction constant (fixed point, log(1 + beta), the
  logarithms of the variance sums) is computed once when the tile is made;
* the increment is computed in float32 and added to the float64 state:
  dG = (G* - G0) (1 - r^k) carries a relative rounding error of ~1e-7 of the
  *increment*, not of G, so the state keeps float64 resolution;
* the direction of each device's pulses is selected arithmetically
  (base + mask * diff), which is several times faster than np.where on a
  random mask;
* the Gaussian draw uses Box-Muller on float32 uniforms from the caller's
  Generator (about 5x faster than ``standard_normal`` for float64); its tails
  end at |z| = sqrt(-2 ln 2^-24) = 5.77 (probability beyond that 8e-9).

Mean of n pulses (r = 1 + beta, G* = -alpha/beta, beta != 0; dG = alpha k for beta = 0):
    G_k = G* + (G0 - G*) r^k
Variance (sigma(G) = s0 + s1 G per pulse, sa additive, rho = r^2 + s1^2,
A = s0 + s1 G*, B = s1 (G0 - G*), S(e, k) = sum_{j<k} (1 + e)^j):
    V_k = (A^2 + sa^2) S(rho - 1, k) + 2 A B r^(k-1) S(rho/r - 1, k) + B^2 r^(2k-2) S(rho/r^2 - 1, k)
The result is drawn as a Gaussian with these moments and clipped to the
device's own bounds (see pulse_counts for what that approximation means).
"""

from __future__ import annotations

import numpy as np

from memspice.surrogate.pulse_base import DeviceDraws, PulseModel

__all__ = ["ClosedFormUpdater", "affine_pulse_coefficients", "alternating_pulses", "fast_normal"]

_F = np.float32


def fast_normal(rng: np.random.Generator, n: int) -> np.ndarray:
    """n standard normal float32 draws by Box-Muller from float32 uniforms (tails end at 5.77)."""
    m = (n + 1) // 2
    u1 = rng.random(m, dtype=_F)
    u2 = rng.random(m, dtype=_F)
    rad = np.sqrt(_F(-2.0) * np.log1p(-u1))  # 1 - u1 in (0, 1]
    th = _F(2.0 * np.pi) * u2
    out = np.empty(2 * m, dtype=_F)
    np.multiply(rad, np.cos(th), out=out[:m])
    np.multiply(rad, np.sin(th), out=out[m:])
    return out[:n]


def affine_pulse_coefficients(model: PulseModel, draws: DeviceDraws):
    """One pulse of every device of an affine model, G -> G + alpha + beta G + (s0 + s1 G) xi + sa xi'.

    Returns ``(live, lo, hi, [(alpha, beta, s0, s1) of potentiation, of depression])``,
    flat float64 arrays in S (live: range > 0; a stuck device and a missing
    depression, ``bidirectional = False``, have all four zero).
    """
    lo = np.asarray(draws.lo_s, dtype=np.float64).reshape(-1)
    hi = np.asarray(draws.hi_s, dtype=np.float64).reshape(-1)
    rng_s = hi - lo
    live = rng_s > 0.0
    r_safe = np.where(live, rng_s, 1.0)
    per_dir = []
    for up_flag, f in ((True, draws.f_up), (False, draws.f_down)):
        f = np.where(live, np.asarray(f, dtype=np.float64).reshape(-1), 0.0)
        up = np.full(lo.shape, up_flag)
        if not up_flag and not model.bidirectional:
            a_s = b_s = c0 = c1 = np.zeros(lo.shape)
        else:
            a_s, b_s, c0, c1 = (np.broadcast_to(np.asarray(v, dtype=np.float64), lo.shape) for v in model.affine_coeffs_s(up, lo, r_safe))
        # step(G) = a + b (G - lo)/R = alpha + beta G, in S
        beta = f * b_s / r_safe
        alpha = f * a_s - beta * lo
        # noise std per pulse, sigma(G) = s0 + s1 G (S), zero for stuck devices
        s1 = np.where(live, (model.c2c_rel * f * b_s + c1) / r_safe, 0.0)
        s0 = np.where(live, model.c2c_rel * f * a_s + c0, 0.0) - s1 * lo
        per_dir.append((alpha, beta, s0, s1))
    return live, lo, hi, per_dir


def alternating_pulses(model: PulseModel, draws: DeviceDraws, g: np.ndarray, first: np.ndarray, second: np.ndarray,
                       n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """States of the devices after ``n_pairs`` pulse pairs (a pulse ``first`` then ``second``), in one pass.

    ``g``: flat states (S); ``first``/``second``: per device +1 (potentiation),
    -1 (depression) or 0 (no pulse). Each pulse is the affine map of
    :func:`affine_pulse_coefficients`; on (1, E[G], E[G^2]) it is linear,

        E[G']   = alpha + r E[G]                                           (r = 1 + beta)
        E[G'^2] = (alpha^2 + s0^2 + sa^2) + 2 (r alpha + s0 s1) E[G] + (r^2 + s1^2) E[G^2],

    so a pair is the product of two such triangular maps and ``n_pairs`` pairs
    its power (repeated squaring, float64). The result is drawn as a Gaussian
    with these moments and clipped to the device's bounds once, at the end
    (pulse by pulse the clip acts after every pulse; the two agree while the
    devices stay inside their bounds, as at a symmetry point of soft bounds).
    Returns the new flat states; ``g`` is not changed.
    """
    live, lo, hi, per_dir = affine_pulse_coefficients(model, draws)
    sa2 = float(model.c2c_abs_s) ** 2
    g = np.asarray(g, dtype=np.float64).reshape(-1)

    def pulse_map(direction):
        # (alpha, r, c, b, rho): E[G'] = alpha + r E[G]; E[G'^2] = c + b E[G] + rho E[G^2]
        d = np.asarray(direction).reshape(-1)
        up, down = d > 0, d < 0
        coeff = [np.where(up, u, np.where(down, v, 0.0)) for u, v in zip(*per_dir)]
        alpha, beta, s0, s1 = coeff
        r = 1.0 + beta
        noise = np.where(live & (d != 0), sa2, 0.0)
        return alpha, r, alpha * alpha + s0 * s0 + noise, 2.0 * (r * alpha + s0 * s1), r * r + s1 * s1

    def then(t1, t2):
        """The map t1 followed by t2."""
        a1, r1, c1, b1, p1 = t1
        a2, r2, c2, b2, p2 = t2
        return a2 + r2 * a1, r2 * r1, c2 + b2 * a1 + p2 * c1, b2 * r1 + p2 * b1, p2 * p1

    pair = then(pulse_map(first), pulse_map(second))
    total = (0.0, 1.0, 0.0, 0.0, 1.0)  # identity
    n = int(n_pairs)
    while n:
        if n & 1:
            total = then(total, pair)
        n >>= 1
        if n:
            pair = then(pair, pair)
    a, r, c, b, p = total
    mean = a + r * g
    var = np.maximum(c + b * g + p * g * g - mean * mean, 0.0)
    new = mean + np.sqrt(var) * rng.standard_normal(g.size)
    pulsed = live & ((np.asarray(first).reshape(-1) != 0) | (np.asarray(second).reshape(-1) != 0)) & (n_pairs > 0)
    return np.where(pulsed, np.clip(new, lo, hi), g)


class ClosedFormUpdater:
    """Closed-form n-pulse update of a flat array of devices of one affine model (constants precomputed per device)."""

    def __init__(self, model: PulseModel, draws: DeviceDraws):
        live, lo, hi, per_dir = affine_pulse_coefficients(model, draws)
        # a stuck device (range 0) never moves: its step and noise are zero and
        # its "bounds" are open, so a state programmed elsewhere is kept
        self.lo = np.where(live, lo, -np.inf)
        self.hi = np.where(live, hi, np.inf)
        self.n_devices = lo.size
        self.bidirectional = model.bidirectional
        self.affine_const = all(np.all(d[1] == 0.0) for d in per_dir)
        sa = float(model.c2c_abs_s)
        self.noisy = sa > 0.0 or any(np.any(d[2] != 0.0) or np.any(d[3] != 0.0) for d in per_dir)
        q: dict[str, list[np.ndarray]] = {}

        def put(name, arrays):
            q[name] = arrays

        if self.affine_const:
            put("alpha", [d[0] for d in per_dir])
            if self.noisy:
                put("var1", [d[2] ** 2 + sa * sa for d in per_dir])
        else:
            logr, gstar, A2, A, s1l, Lr, ier, L1, ie1, L2, ie2 = ([] for _ in range(11))
            for alpha, beta, s0, s1 in per_dir:
                moving = beta != 0.0
                bsafe = np.where(moving, beta, 1.0)
                lr = np.log1p(np.where(moving, beta, 0.0))
                gs = np.where(moving, -alpha / bsafe, 0.0)
                logr.append(lr)
                gstar.append(gs)
                if self.noisy:
                    r = 1.0 + np.where(moving, beta, 0.0)
                    a_ = s0 + s1 * gs
                    # the multiplicative noise vanishes at the fixed point;
                    # drop the rounding residue so that pure c2c_rel noise
                    # costs only the B^2 term
                    a_ = np.where(np.abs(a_) <= 1e-9 * (np.abs(s0) + np.abs(s1 * gs)), 0.0, a_)
                    A.append(a_)
                    A2.append(a_ * a_ + sa * sa)
                    s1l.append(s1)
                    for e, Ls, ies in (
                        (2.0 * (r - 1.0) + (r - 1.0) ** 2 + s1 * s1, Lr, ier),
                        ((r - 1.0) + s1 * s1 / r, L1, ie1),
                        (s1 * s1 / (r * r), L2, ie2),
                    ):
                        e = np.where(np.abs(e) < 1e-30, 1e-30, e)
                        Ls.append(np.log1p(e))
                        ies.append(1.0 / e)
            put("logr", logr)
            put("gstar", gstar)
            if self.noisy:
                self.has_A = any(np.any(a != 0.0) for a in A) or sa > 0.0
                put("s1r2", [s1_ * s1_ / np.exp(2.0 * lr_) for s1_, lr_ in zip(s1l, logr)])
                self.e2_max = float(max(np.max(np.abs(1.0 / ie)) for ie in ie2)) if ie2 else 0.0
                put("s1", s1l)
                put("L2", L2)
                put("ie2", ie2)
                if self.has_A:
                    put("A2", A2)
                    put("A", A)
                    put("Lr", Lr)
                    put("ier", ier)
                    put("L1", L1)
                    put("ie1", ie1)
        # store as (down, up - down) for the arithmetic select; float32 except
        # the constant step, kept in float64 so that N pulses move G by exactly
        # N dg (to double rounding)
        dt = {k: (np.float64 if k == "alpha" else _F) for k in q}
        self._base = {k: v[1].astype(dt[k]) for k, v in q.items()}
        self._diff = {k: (v[0] - v[1]).astype(dt[k]) for k, v in q.items()}
        self._up_only = {k: v[0].astype(dt[k]) for k, v in q.items()}
        # a constant that is the same for every device (no device-to-device
        # spread) is kept as one value: a sparse update then gathers only the
        # states, not five tile-sized arrays (scattered reads that miss the cache)
        self.lo, self.hi = _collapse(self.lo), _collapse(self.hi)
        for d in (self._base, self._diff, self._up_only):
            for k in d:
                d[k] = _collapse(d[k])

    # ------------------------------------------------------------------

    def _sel(self, name, up_f, idx):
        """Per-device constant for the pulse direction of each device (a read-only view or a new array)."""
        if up_f is None:
            a = self._up_only[name]
            return _pick(a, idx)
        return _pick(self._base[name], idx) + up_f * _pick(self._diff[name], idx)

    def update(self, g: np.ndarray, k: np.ndarray, idx: np.ndarray | None, rng: np.random.Generator) -> None:
        """Apply signed counts ``k`` to ``g`` in place.

        ``idx=None``: k has one entry per device (zeros allowed, dense path);
        else k holds the counts of the devices ``idx`` (sparse path).
        """
        kf = np.asarray(k).astype(_F)
        kk = np.abs(kf)
        up_f = None if bool(np.all(kf >= 0)) else (kf > 0).astype(_F)
        self.update_abs(g, kk, up_f, idx, rng)

    def update_abs(self, g: np.ndarray, kk: np.ndarray, up_f: np.ndarray | None, idx: np.ndarray | None, rng: np.random.Generator) -> None:
        """As ``update`` with the counts split: kk = |k| (float32), up_f = 1.0 where potentiating
        (None: all potentiating); devices with kk = 0 are untouched.

        ``idx``: None (all devices, g is the full state), a slice (a contiguous
        block of devices, g the full state), or an index array (sparse).
        """
        if isinstance(idx, slice):
            self._update_block(g, kk, up_f, idx, rng)
            return
        g0 = g if idx is None else g.take(idx)
        dg = self._increment(g0, kk, up_f, idx, rng)
        lo = _pick(self.lo, idx)
        hi = _pick(self.hi, idx)
        new = g0 + dg
        # hard bounds: only devices that were pulsed are clipped (a device
        # programmed outside its own bounds keeps that state until pulsed);
        # the out-of-range ones are few, so find them instead of clipping all
        out = new < lo
        out |= new > hi
        bad = np.flatnonzero(out)
        if idx is None and bad.size:
            bad = bad[kk[bad] != 0]
        if bad.size:
            new[bad] = np.clip(new[bad], _at(lo, bad), _at(hi, bad))
        if idx is None:
            g[...] = new
        else:
            g[idx] = new

    def _update_block(self, g, kk, up_f, sl, rng):
        """Dense update of the devices g[sl] in place (no gather, no copy of the state)."""
        view = g[sl]
        dg = self._increment(view, kk, up_f, sl, rng)
        view += dg
        lo, hi = _pick(self.lo, sl), _pick(self.hi, sl)
        out = view < lo
        out |= view > hi
        bad = np.flatnonzero(out)
        if bad.size:
            bad = bad[kk[bad] != 0]  # unpulsed devices keep even an out-of-bounds programmed state
            view[bad] = np.clip(view[bad], _at(lo, bad), _at(hi, bad))

    def _increment(self, g0, kk, up_f, idx, rng):
        """Conductance change (S) of each selected device: mean of n pulses plus its noise draw."""
        if self.affine_const:
            dg = self._sel("alpha", up_f, idx) * kk
            if self.noisy:
                var = self._sel("var1", up_f, idx) * kk
                dg += np.sqrt(var) * fast_normal(rng, kk.size)
        else:
            logr = self._sel("logr", up_f, idx)
            d0 = self._sel("gstar", up_f, idx) - g0.astype(_F)  # G* - G0 (float32: an increment-sized error only)
            t = kk * logr
            em = np.expm1(t)  # r^k - 1
            dg = d0 * em
            np.negative(dg, out=dg)  # dG = (G* - G0)(1 - r^k)
            if self.noisy:
                if self.has_A:
                    var = self._full_variance(d0, kk, t, logr, up_f, idx)
                else:
                    # multiplicative noise only: V = s1^2 (G0 - G*)^2 r^(2k-2) S(s1^2/r^2, k);
                    # S = k (1 + (k-1) e/2 + ...) with e = s1^2/r^2 tiny; the
                    # first-order term is kept only where it matters (> 1e-7)
                    rk = em
                    rk += _F(1.0)
                    rk *= d0
                    var = rk * rk
                    var *= self._sel("s1r2", up_f, idx)
                    kmax = float(kk.max()) if kk.size else 0.0
                    if self.e2_max * kmax > 1e-7:
                        geo = np.expm1(kk * self._sel("L2", up_f, idx)) * self._sel("ie2", up_f, idx)
                        var *= geo
                    else:
                        var *= kk
                np.maximum(var, _F(0.0), out=var)
                np.sqrt(var, out=var)
                var *= fast_normal(rng, kk.size)
                dg += var
        return dg

    def _full_variance(self, d0, kk, t, logr, up_f, idx):
        s1 = self._sel("s1", up_f, idx)
        B = -s1 * d0  # s1 (G0 - G*)
        rk1 = np.exp(t - logr)  # r^(k-1)
        var = (B * B) * (rk1 * rk1) * np.expm1(kk * self._sel("L2", up_f, idx)) * self._sel("ie2", up_f, idx)
        A = self._sel("A", up_f, idx)
        var += self._sel("A2", up_f, idx) * np.expm1(kk * self._sel("Lr", up_f, idx)) * self._sel("ier", up_f, idx)
        var += _F(2.0) * A * B * rk1 * np.expm1(kk * self._sel("L1", up_f, idx)) * self._sel("ie1", up_f, idx)
        return var


def _collapse(a: np.ndarray) -> np.ndarray:
    """``a`` as a 1-element array when all its entries are equal (it then broadcasts), else ``a``."""
    if a.size > 1 and np.all(a == a[0]):
        return a[:1].copy()
    return a


def _at(a: np.ndarray, i):
    """a[i], or ``a`` itself for a collapsed (1-element) constant."""
    return a if a.size == 1 else a[i]


def _pick(a: np.ndarray, idx):
    """a itself (idx None or a collapsed constant), a view (slice) or a gathered copy (index array)."""
    if idx is None or a.size == 1:
        return a
    if isinstance(idx, slice):
        return a[idx]
    return a.take(idx)
