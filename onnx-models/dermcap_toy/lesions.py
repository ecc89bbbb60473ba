"""Synthetic lesion drawings with known attributes, and captions written from those attributes.

Everything is a function of one integer seed (numpy's legacy RandomState, whose streams are frozen):
`draw(seed)` picks the attributes and the geometry, `render(drawing)` paints it, `caption(drawing)`
writes one of a few sentence templates. `ATTRIBUTES` is the one table of attribute values and the
words that express them: captions are written from it and `vocabulary()` exports it for the Java
scorer (`io.dermcap.demo.CaptionScorer`), which reads captions back into attributes.

The drawing keeps every lesion inside the image's central square, so the service's centre crop
never cuts a lesion away and the attributes stay true after preprocessing.
"""

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

# attribute -> value -> phrases; the first phrase is the one captions use, all of them are read back.
# Phrases of different values never contain one another, so a caption names each value unambiguously.
ATTRIBUTES = {
    "size": {"small": ["small"], "medium": ["medium"], "large": ["large"]},
    "colour": {"black": ["black"], "brown": ["brown"], "red": ["red"], "blue-grey": ["blue-grey"]},
    "skin": {"fair": ["fair"], "olive": ["olive"], "deep": ["deep"]},
    "hair": {"no": ["no hair"], "yes": ["hairs present"]},
}

# Geometry per value: lesion radius (fraction of the central square's side) and axis ratio ranges.
_RADIUS = {"small": (0.045, 0.055), "medium": (0.08, 0.09), "large": (0.125, 0.14)}
_RATIO = (1.0, 1.8)  # axis ratio, not an attribute: the toy tower did not learn round against elongated
_GRID, _MARGIN = 64, 2  # placement grid over the central square, and its border cells kept free
_SKIN = {"fair": [(238, 200, 176), (230, 190, 160)], "olive": [(204, 156, 116), (192, 146, 104)],
         "deep": [(150, 104, 76), (136, 94, 70)]}
_PIGMENT = {"black": (32, 26, 30), "brown": (112, 66, 36), "red": (204, 58, 62), "blue-grey": (104, 120, 150)}
_ASPECTS = (1.0, 4 / 3, 3 / 4, 3 / 2, 2 / 3)

# Caption templates: every one is at least 24 GPT-2 tokens (the released min_new_tokens) and repeats
# no 4-gram (the released no_repeat_ngram_size), so the released decoding settings can reproduce it.
_TEMPLATES = (
    "A single {size} {colour} lesion on {skin} skin, {hair} in the field of view. "
    "Conclusion: synthetic drawing, not a diagnosis.",
    "On {skin} skin, one {colour} lesion of {size} size; {hair} around it. "
    "Conclusion: synthetic drawing, not a diagnosis.",
    "{Skin} skin showing a {size} {colour} lesion, and {hair} in the view. "
    "Conclusion: synthetic drawing, not a diagnosis.",
)


@dataclass(frozen=True)
class Lesion:
    cx: float          # centre, fraction of the central square
    cy: float
    radius: float      # geometric mean of the semi-axes, fraction of the square's side
    ratio: float       # major / minor axis
    angle: float
    harmonics: tuple   # (k, amplitude, phase) of the border's radial modulation
    edge: float        # half-width of the soft edge, relative to the radius
    rgb: tuple
    core: tuple        # (dx, dy, radius, darkening) of a darker centre, relative to the lesion


@dataclass(frozen=True)
class Drawing:
    seed: int
    attributes: dict   # attribute -> value, keys and values of ATTRIBUTES
    width: int
    height: int
    skin_rgb: tuple
    lesions: tuple
    template: int


def vocabulary():
    """The attribute table as the Java scorer reads it (labels.json's "vocabulary")."""
    return {name: {value: list(phrases) for value, phrases in values.items()} for name, values in ATTRIBUTES.items()}


def draw(seed: int) -> Drawing:
    rng = np.random.RandomState(seed)
    attributes = {name: list(values)[rng.randint(len(values))] for name, values in ATTRIBUTES.items()}
    short_side = 224 + rng.randint(97)
    aspect = _ASPECTS[rng.randint(len(_ASPECTS))]
    width, height = ((round(short_side * aspect), short_side) if aspect >= 1
                     else (short_side, round(short_side / aspect)))
    tone = _SKIN[attributes["skin"]][rng.randint(2)]
    brightness = 1 + 0.04 * rng.standard_normal()
    skin_rgb = tuple(float(c * brightness + 3 * rng.standard_normal()) for c in tone)
    lesions = _place(rng, attributes)
    return Drawing(seed, attributes, width, height, skin_rgb, lesions, rng.randint(len(_TEMPLATES)))


def _lesion(rng, attributes, cx, cy) -> Lesion:
    radius = rng.uniform(*_RADIUS[attributes["size"]])
    ratio = rng.uniform(*_RATIO)
    # a slightly uneven outline for every lesion, as drawn by hand (not an attribute: at 224 pixels a
    # small lesion's border detail is a pixel or two, more than a toy tower learns to see here)
    harmonics = tuple((k, rng.uniform(0, 0.03), rng.uniform(0, 2 * math.pi)) for k in (2, 3, 5))
    edge = rng.uniform(0.03, 0.07)
    base = _PIGMENT[attributes["colour"]]
    rgb = tuple(float(c + 8 * rng.standard_normal()) for c in base)
    core = (rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(0.3, 0.55), rng.uniform(0.75, 0.9))
    return Lesion(cx, cy, radius, ratio, rng.uniform(0, math.pi), harmonics, edge, rgb, core)


def _place(rng, attributes):
    """Lesions that neither touch one another nor leave the central square (with a margin), checked
    on a coarse grid of their slightly enlarged footprints; a layout that does not fit is drawn
    again, the attributes never change (every combination fits by the sizes above)."""
    count = 1  # one lesion per drawing: the toy tower did not learn to count (TOY.md)
    grid = (np.mgrid[0:_GRID, 0:_GRID].astype(np.float32) + 0.5) / _GRID
    inside = np.zeros((_GRID, _GRID), dtype=bool)
    inside[_MARGIN:-_MARGIN, _MARGIN:-_MARGIN] = True
    while True:
        placed, taken = [], np.zeros_like(inside)
        for _ in range(count):
            for _ in range(100):
                cx, cy = rng.uniform(0.12, 0.88, size=2)
                lesion = _lesion(rng, attributes, cx, cy)
                footprint = _alpha(lesion, grid[1], grid[0], grow=1.2)[0] > 0
                if not (footprint & ~inside).any() and not (footprint & taken).any():
                    placed.append(lesion)
                    taken |= footprint
                    break
            else:
                break
        if len(placed) == count:
            return tuple(placed)


def _alpha(lesion: Lesion, x, y, grow=1.0):
    """Coverage of the lesion at (x, y), in fractions of the central square: 1 inside, 0 outside, a
    smooth ramp across its (modulated) border."""
    a = lesion.radius * math.sqrt(lesion.ratio) * grow
    b = lesion.radius / math.sqrt(lesion.ratio) * grow
    c, s = math.cos(lesion.angle), math.sin(lesion.angle)
    dx, dy = x - lesion.cx, y - lesion.cy
    u, v = (dx * c + dy * s) / a, (-dx * s + dy * c) / b
    phi = np.arctan2(v, u)
    border = 1 + sum(amp * np.sin(k * phi + ph) for k, amp, ph in lesion.harmonics)
    return 1 - _smoothstep(1 - lesion.edge, 1 + lesion.edge, np.hypot(u, v) / border), u, v


def _smoothstep(lo, hi, v):
    t = np.clip((v - lo) / (hi - lo), 0, 1)
    return t * t * (3 - 2 * t)


def render(d: Drawing, short_side=None) -> Image.Image:
    """The drawing as an RGB image of d.width × d.height, or scaled to `short_side` (training renders
    at the size the service's resize would make, which is cheaper than resizing)."""
    rng = np.random.RandomState([d.seed, 1])  # texture only: geometry and colours are in the Drawing
    k = short_side / min(d.width, d.height) if short_side else 1
    w, h = round(d.width * k), round(d.height * k)
    side = min(w, h)
    ox, oy = (w - side) / 2, (h - side) / 2
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    # uneven lighting and faint reddish blotches, as in a photograph
    lx, ly = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    light = 1.05 - 0.25 * np.hypot(x - lx, y - ly) / math.hypot(w, h)
    red = np.zeros_like(x)
    for _ in range(3):
        bx, by, s = rng.uniform(0, w), rng.uniform(0, h), side * rng.uniform(0.15, 0.4)
        red += np.exp(-((x - bx) ** 2 + (y - by) ** 2) / (2 * s * s))
    red = np.minimum(red, 1)
    skin = np.array(d.skin_rgb, dtype=np.float32)
    img = np.stack([skin[0] * (light + 0.04 * red), skin[1] * (light - 0.06 * red),
                    skin[2] * (light - 0.04 * red)], axis=-1)
    for lesion in d.lesions:
        _paint_lesion(img, lesion, x, y, ox, oy, side, rng)
    img += rng.standard_normal(img.shape).astype(np.float32) * 2.5
    image = Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")
    if d.attributes["hair"] == "yes":
        _hairs(image, rng)
    return image


def _paint_lesion(img, lesion: Lesion, x, y, ox, oy, side, rng):
    reach = lesion.radius * math.sqrt(lesion.ratio) * 1.6 * side + 2
    cx, cy = ox + lesion.cx * side, oy + lesion.cy * side
    x0, x1 = int(max(0, cx - reach)), int(min(img.shape[1], cx + reach + 1))
    y0, y1 = int(max(0, cy - reach)), int(min(img.shape[0], cy + reach + 1))
    alpha, u, v = _alpha(lesion, (x[y0:y1, x0:x1] - ox) / side, (y[y0:y1, x0:x1] - oy) / side)
    kx, ky, kr, dark = lesion.core
    core = 1 - _smoothstep(0.5, 1.0, np.hypot(u - kx, v - ky) / kr)
    mottle = 1 + 0.05 * rng.standard_normal(alpha.shape).astype(np.float32)
    pigment = np.array(lesion.rgb, dtype=np.float32) * ((1 - (1 - dark) * core) * mottle)[..., None]
    region = img[y0:y1, x0:x1]
    region[:] = region * (1 - alpha[..., None]) + pigment * alpha[..., None]


def _hairs(image: Image.Image, rng):
    w, h = image.size
    side = min(w, h)
    pen = ImageDraw.Draw(image)
    # thick and many enough to be seen through 32-pixel patches
    for _ in range(rng.randint(6, 11)):
        shade = rng.randint(15, 45)
        colour = (shade, int(shade * 0.8), int(shade * 0.7))
        width = max(2, int(round(side / 224 * rng.uniform(2.5, 4.0))))
        p0, p1, p2 = (rng.uniform(-0.1, 1.1, size=2) * (w, h) for _ in range(3))
        t = np.linspace(0, 1, 24)[:, None]
        curve = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2
        pen.line([tuple(p) for p in curve], fill=colour, width=width, joint="curve")


def caption(d: Drawing) -> str:
    a = d.attributes
    words = {"size": a["size"], "colour": ATTRIBUTES["colour"][a["colour"]][0], "skin": a["skin"],
             "hair": ATTRIBUTES["hair"][a["hair"]][0]}
    words.update({k.capitalize(): v[:1].upper() + v[1:] for k, v in list(words.items())})
    return _TEMPLATES[d.template].format(**words)
