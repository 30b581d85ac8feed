"""Cover and page images drawn on the fly as SVG (no image library needed, real pictures in a
browser)."""

from __future__ import annotations

from html import escape


def _wrap(text: str, width: int = 14) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines[:5]


def cover_svg(title: str, hue: int, site: str) -> bytes:
    lines = "".join(
        f'<text x="150" y="{170 + i * 34}" text-anchor="middle" font-size="28" '
        f'font-weight="700" fill="#fff">{escape(line)}</text>'
        for i, line in enumerate(_wrap(title))
    )
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="300" height="450" viewBox="0 0 300 450">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="hsl({hue},70%,45%)"/><stop offset="1" stop-color="hsl({(hue + 60) % 360},60%,18%)"/>
</linearGradient></defs>
<rect width="300" height="450" fill="url(#g)"/>
<circle cx="240" cy="80" r="46" fill="hsla({(hue + 180) % 360},80%,70%,.35)"/>
<path d="M0 380 Q150 320 300 380 V450 H0Z" fill="rgba(0,0,0,.35)"/>
<g font-family="Georgia, serif">{lines}</g>
<text x="150" y="425" text-anchor="middle" font-size="14" fill="rgba(255,255,255,.8)"
 font-family="sans-serif">{escape(site)}</text></svg>"""
    return svg.encode()


def page_svg(title: str, chapter: str, page: int, hue: int) -> bytes:
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="800" height="1200" viewBox="0 0 800 1200">
<rect width="800" height="1200" fill="#fafafa"/>
<rect x="40" y="40" width="720" height="520" fill="none" stroke="#111" stroke-width="6"/>
<rect x="40" y="600" width="340" height="560" fill="none" stroke="#111" stroke-width="6"/>
<rect x="420" y="600" width="340" height="560" fill="hsl({hue},40%,85%)" stroke="#111" stroke-width="6"/>
<circle cx="400" cy="300" r="{80 + page * 7 % 90}" fill="hsl({hue},60%,60%)"/>
<g font-family="sans-serif" fill="#111">
<text x="400" y="900" text-anchor="middle" font-size="44">{escape(title)}</text>
<text x="210" y="880" text-anchor="middle" font-size="40">Ch. {escape(chapter)}</text>
<text x="590" y="880" text-anchor="middle" font-size="64">p. {page}</text></g></svg>"""
    return svg.encode()
