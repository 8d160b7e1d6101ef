"""Keep the figures saved in notebooks small: every PNG output wider than `--max_width` pixels is scaled down to it,
and every PNG is re-encoded with an adaptive palette of 256 colours (plots use few colours, so this is invisible
at screen size and typically several times smaller). Figures already small enough are left byte for byte.

Usage: python tools/shrink_figures.py [--max_width 1100] NOTEBOOK...   (`make nbs` and `make bench` run it)"""
import argparse, base64, io, json
from pathlib import Path

from PIL import Image


def shrink_png(raw: bytes, # a PNG file's bytes
               max_width: int, # widest figure kept, in pixels
              ) -> bytes: # a smaller PNG of the same figure, or `raw` when re-encoding saves nothing
    "The figure at most `max_width` pixels wide, as a 256-colour PNG."
    image = Image.open(io.BytesIO(raw))
    if image.width > max_width:
        image = image.resize((max_width, round(image.height * max_width / image.width)), Image.LANCZOS)
    out = io.BytesIO()
    image.convert('RGBA').quantize(256, method=Image.Quantize.FASTOCTREE).save(out, 'PNG', optimize=True)
    return out.getvalue() if out.tell() < len(raw) else raw


def shrink_notebook(path: Path, # a notebook
                    max_width: int, # widest figure kept, in pixels
                   ) -> tuple: # (bytes before, bytes after) of the file
    "Shrink every PNG output of `path` in place; the file is rewritten only if something changed."
    text = path.read_text(encoding='utf-8')
    nb, changed = json.loads(text), False
    for cell in nb['cells']:
        for output in cell.get('outputs', []):
            data = output.get('data', {})
            if 'image/png' not in data: continue
            raw = base64.b64decode(data['image/png'])
            small = shrink_png(raw, max_width)
            if small is raw: continue
            data['image/png'] = base64.b64encode(small).decode('ascii') + '\n'
            changed = True
    if changed: path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    return len(text.encode()), path.stat().st_size


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('notebooks', nargs='+', type=Path)
    parser.add_argument('--max_width', type=int, default=1100, help='widest figure kept, in pixels')
    args = parser.parse_args()
    for nb in args.notebooks:
        before, after = shrink_notebook(nb, args.max_width)
        if after != before: print(f"{nb}: {before / 1e3:,.0f} KB -> {after / 1e3:,.0f} KB")
