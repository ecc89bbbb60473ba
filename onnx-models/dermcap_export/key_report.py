"""What a state dict lacks, has in excess or holds in another shape than the model, summarised
per layer range so a 24-layer mismatch reads as one line."""

import re
from dataclasses import dataclass, field


def summarise_keys(keys) -> str:
    """Collapses per-layer keys: 'h.{0-23}.attn.c_attn.weight' instead of 24 lines."""
    groups = {}
    for key in keys:
        pattern = re.sub(r"\.(\d+)\.", ".{}.", key, count=1)
        m = re.search(r"\.(\d+)\.", key)
        groups.setdefault(pattern, []).append(int(m.group(1)) if m and pattern != key else None)
    lines = []
    for pattern, indices in sorted(groups.items()):
        if indices == [None]:
            lines.append(pattern)
        else:
            nums = sorted(i for i in indices if i is not None)
            ranges, start = [], nums[0]
            for a, b in zip(nums, nums[1:] + [None]):
                if b != a + 1:
                    ranges.append(str(start) if start == a else f"{start}-{a}")
                    start = b
            lines.append(pattern.replace("{}", "{" + ",".join(ranges) + "}"))
    return "\n    " + "\n    ".join(lines)


@dataclass
class KeyReport:
    source: str
    missing: list = field(default_factory=list)
    unexpected: list = field(default_factory=list)
    mismatched: list = field(default_factory=list)

    def problems(self):
        out = []
        if self.missing:
            out.append(f"{self.source}: {len(self.missing)} missing keys:{summarise_keys(self.missing)}")
        if self.unexpected:
            out.append(f"{self.source}: {len(self.unexpected)} unexpected keys:{summarise_keys(self.unexpected)}")
        if self.mismatched:
            out.append(f"{self.source}: {len(self.mismatched)} shape mismatches:\n    " + "\n    ".join(self.mismatched))
        return out


def compare_keys(expected: dict, found: dict, source: str) -> KeyReport:
    report = KeyReport(source)
    report.missing = sorted(k for k in expected if k not in found)
    report.unexpected = sorted(k for k in found if k not in expected)
    for key in sorted(set(expected) & set(found)):
        want, got = tuple(expected[key].shape), tuple(found[key].shape)
        if want != got:
            report.mismatched.append(f"{key}: file {list(got)}, model {list(want)}")
    return report
