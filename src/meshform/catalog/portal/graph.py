"""The mesh graph: domains as nodes, subscriptions as arrows from producer to consumer (the
way data flows), laid out at build time so the page needs no script and no graph library.

Layout: domains on a circle in name order, the circle growing with their number so labels
keep their room. Deterministic: coordinates are rounded, everything is sorted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NODE_RADIUS = 9.0
SPACING = 34.0  # arc length between neighbours on the circle
MARGIN = 150.0  # room for the labels outside the circle
MIN_RADIUS = 140.0


@dataclass(frozen=True)
class Node:
    name: str
    x: float
    y: float
    products: int
    label_x: float
    label_y: float
    anchor: str  # 'start' | 'end': labels point away from the circle


@dataclass(frozen=True)
class Edge:
    producer: str
    consumer: str
    products: tuple[str, ...]  # product names the consumer reads
    path: str  # SVG path data: a quadratic curve from producer to consumer


@dataclass(frozen=True)
class Graph:
    width: float
    height: float
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def _r(value: float) -> float:
    return round(value, 1) + 0.0  # + 0.0 turns -0.0 into 0.0


def _towards(x: float, y: float, tx: float, ty: float, distance: float) -> tuple[float, float]:
    length = math.hypot(tx - x, ty - y) or 1.0
    return x + (tx - x) / length * distance, y + (ty - y) / length * distance


def layout(manifest: dict) -> Graph:
    names = sorted(manifest["domains"])
    n = len(names)
    radius = max(MIN_RADIUS, n * SPACING / (2 * math.pi))
    centre = radius + MARGIN
    positions: dict[str, tuple[float, float, float]] = {}
    nodes = []
    for i, name in enumerate(names):
        angle = -math.pi / 2 + 2 * math.pi * i / max(n, 1)
        x, y = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
        positions[name] = (x, y, angle)
        out = NODE_RADIUS + 5
        right = math.cos(angle) >= -1e-9
        nodes.append(
            Node(
                name,
                _r(x),
                _r(y),
                len(manifest["domains"][name]["products"]),
                _r(x + out * math.cos(angle)),
                _r(y + out * math.sin(angle) + 4),
                "start" if right else "end",
            )
        )
    reads: dict[tuple[str, str], list[str]] = {}
    for sub in manifest["subscriptions"]:
        product = sub["product"].split(".", 1)[1]
        reads.setdefault((sub["producer"], sub["consumer"]), []).append(product)
    edges = []
    for (producer, consumer), products in sorted(reads.items()):
        if producer not in positions or consumer not in positions:
            continue
        x1, y1, _ = positions[producer]
        x2, y2, _ = positions[consumer]
        # A curve bent towards the centre (a chord diagram): neighbours on the ring, which a
        # straight line would hide under their labels, stay visible. Two domains reading each
        # other get two curves, bent by different amounts.
        bend = 0.45 if (consumer, producer) in reads and producer > consumer else 0.3
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        cx, cy = mx + (centre - mx) * bend * 2, my + (centre - my) * bend * 2
        sx, sy = _towards(x1, y1, cx, cy, NODE_RADIUS + 2)
        ex, ey = _towards(x2, y2, cx, cy, NODE_RADIUS + 4)
        path = f"M{_r(sx)} {_r(sy)} Q{_r(cx)} {_r(cy)} {_r(ex)} {_r(ey)}"
        edges.append(Edge(producer, consumer, tuple(sorted(set(products))), path))
    size = _r(2 * centre)
    return Graph(size, size, tuple(nodes), tuple(edges))
