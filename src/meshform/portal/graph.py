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
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Graph:
    width: float
    height: float
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def _r(value: float) -> float:
    return round(value, 1) + 0.0  # + 0.0 turns -0.0 into 0.0


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
        nodes.append(Node(name, _r(x), _r(y), len(manifest["domains"][name]["products"]),
                          _r(x + out * math.cos(angle)), _r(y + out * math.sin(angle) + 4),
                          "start" if right else "end"))
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
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        dx, dy = (x2 - x1) / length, (y2 - y1) / length
        gap = NODE_RADIUS + 2
        # Two domains reading each other: two parallel arrows, each shifted to its right.
        shift = 4.0 if (consumer, producer) in reads else 0.0
        ox, oy = -dy * shift, dx * shift
        edges.append(Edge(producer, consumer, tuple(sorted(set(products))), _r(x1 + dx * gap + ox),
                          _r(y1 + dy * gap + oy), _r(x2 - dx * (gap + 3) + ox), _r(y2 - dy * (gap + 3) + oy)))
    size = _r(2 * centre)
    return Graph(size, size, tuple(nodes), tuple(edges))
