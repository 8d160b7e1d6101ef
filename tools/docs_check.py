"""Check the built docs the way a reader meets them: every page there, every link working, math and plots rendered.

Usage: python tools/docs_check.py [--docs docs] [--shots _docs_check]   (`make docs-check` runs it after `make docs`)

1. **Pages.** One page per notebook that `tools/render_docs.py` renders (names and folders starting with `_` or `.`
   skipped), named as nbdev names them (`00_epistasis.ipynb` -> `epistasis.html`), plus `README.md`.
2. **The HTML of each page**, without a browser:
   - every relative link resolves to a file of the checkout (another page, a notebook, a module), and its `#fragment`
     to an id on the target page; links into the online docs (`doc_host` + `doc_baseurl`) must have been rewritten;
   - every source link into the repository (`git_url`/blob/`branch`/path#Ln, written by `show_doc`) names a module
     of the checkout whose line n starts the definition of the documented name (stale pages fail here);
   - every image is a data URI that decodes (PIL for PNG/JPEG/GIF, XML for SVG): pages are self-contained;
   - the sidebar lists every page, in reading order; the page has no `<script>` (none by design);
   - every public function and class of the page's module (its `__all__`) has a `show_doc` heading (a heading
     right after its source link);
   - a notebook whose markdown has `$` math gives a page with `<math>` elements.
3. **In the browser** (headless Chromium, `--dump-dom` on a temporary copy of the page with a small probe script
   appended, so the pages themselves stay script-free): every `<img>` loaded (complete, natural width > 0), every
   `<math>` element is laid out as MathML (`display: math` or `block math`, non-zero width), and no text outside
   code, preformatted output and math still holds TeX: `$...$`, `$$`, `\\(`, `\\[` or a command like `\\frac`.
4. **Screenshots** (1280 x 1600 px, after the checks) of the home page from the top, and of the theory page and
   the interpretation page down to their first figure, in `_docs_check/` (git-ignored): look at
   them to see the math and the plots.

Exits 1 listing every problem, 0 with a one-line summary per page. Chromium: the Debian package `chromium` (or
`chromium-browser`, `google-chrome`; `CHROMIUM=/path` overrides). No network is used: the pages fetch nothing.
"""
import argparse, base64, binascii, html, importlib, inspect, io, json, os, re, shutil, subprocess, sys, tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DOCS, NBS, SHOTS = ROOT / 'docs', ROOT / 'nbs', ROOT / '_docs_check'
sys.path.insert(0, str(ROOT / 'tools'))
from render_docs import source_notebooks, default_exp, settings  # the page list, in the sidebar's order

SCREENSHOTS = {'index': 'index.html', 'theory': 'epistasis.html', 'interpretation': 'interpret.html'}
CHROME_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', '--no-first-run', '--hide-scrollbars',
                '--virtual-time-budget=10000']
WIDTH, HEIGHT, TALLEST = 1280, 1600, 16000  # screenshot size; headless Chromium paints nothing once scrolled, so a
                                            # figure further down is shot in a taller window and cropped
TEX = (r'\$\$|\$[^$\n]+\$|\\[(\[]|\\(?:frac|sum|prod|sqrt|mathrm|mathbb|mathcal|left|right|varepsilon|epsilon|lambda|'
       r'sigma|Delta|tilde|hat|cdot|times|leq?|geq?|ldots|partial|emptyset|subseteq)\b')
# Appended to a temporary copy of each page; writes what it finds into the DOM that --dump-dom prints.
PROBE = """<script>
window.addEventListener('load', () => {
  const r = {images: document.images.length, broken: [], math: 0, notMathML: 0, emptyMath: 0, tex: [], anchor: null};
  for (const img of document.images)
    if (!(img.complete && img.naturalWidth > 0)) r.broken.push(img.getAttribute('src').slice(0, 60));
  for (const m of document.querySelectorAll('math')) {
    r.math++;
    if (!getComputedStyle(m).display.includes('math')) r.notMathML++;
    if (m.getBoundingClientRect().width <= 0) r.emptyMath++;
  }
  const skip = 'CODE PRE MATH SCRIPT STYLE KBD SAMP TEXTAREA'.split(' ');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode: n => {
    for (let e = n.parentElement; e; e = e.parentElement)
      if (skip.includes(e.tagName.toUpperCase())) return NodeFilter.FILTER_REJECT;
    return NodeFilter.FILTER_ACCEPT; }});
  const tex = new RegExp(%s);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const m = n.textContent.match(tex);
    if (m) r.tex.push(n.textContent.trim().slice(0, 80));
  }
  const img = document.images[0];
  if (img) {
    const box = img.getBoundingClientRect();
    r.anchor = [Math.round(box.top + window.scrollY), Math.round(box.height)];
  }
  const out = document.createElement('pre'); out.id = 'docs-check-result';
  out.textContent = JSON.stringify(r); document.body.appendChild(out);
});
</script>""" % json.dumps(TEX)


def page_name(rel):
    "The page nbdev writes for a notebook: the number prefix dropped, lower case (nbdev.doclinks._nbpath2html)."
    rel = PurePosixPath(rel)
    return (rel.parent / re.sub(r'^\d+[a-zA-Z0-9]*_', '', rel.name.lower())).with_suffix('.html').as_posix()


class Page(HTMLParser):
    "Links, images, ids, sidebar links, headings, source links and script tags of one HTML page."
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.links, self.images, self.ids, self.nav, self.headings = [], [], set(), [], []
        self.scripts, self.math = 0, 0
        self._in_nav, self._heading, self._last_source = False, None, None
        self.sources = []  # (url, heading text that follows it)
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a: self.ids.add(a['id'])
        if tag == 'a' and 'href' in a:
            self.links.append(a['href'])
            if self._in_nav: self.nav.append(a['href'])
            if a['href'].startswith('http') and '/blob/' in a['href']: self._last_source = a['href']
        if tag == 'img': self.images.append(a.get('src', ''))
        if tag == 'nav': self._in_nav = True
        if tag == 'script': self.scripts += 1
        if tag == 'math': self.math += 1
        if tag in ('h1', 'h2', 'h3', 'h4'): self._heading = ''

    def handle_endtag(self, tag):
        if tag == 'nav': self._in_nav = False
        if tag in ('h1', 'h2', 'h3', 'h4') and self._heading is not None:
            text = self._heading.strip()
            self.headings.append(text)
            if self._last_source: self.sources.append((self._last_source, text))
            self._heading = self._last_source = None

    def handle_data(self, data):
        if self._heading is not None: self._heading += data


def check_image(src):
    "None if `src` is a data URI that decodes as an image, else what is wrong."
    m = re.match(r'data:image/([\w.+-]+)(;base64)?,(.*)', src, re.S)
    if not m: return f"image not embedded as a data URI: {src[:80]}"
    kind, b64, payload = m.groups()
    try: data = base64.b64decode(payload, validate=True) if b64 else payload.encode()
    except (binascii.Error, ValueError): return f"image/{kind} data URI is not valid base64"
    try:
        if kind.startswith('svg'): ET.fromstring(data)
        else:
            with Image.open(io.BytesIO(data)) as im: im.load()
    except Exception as e: return f"image/{kind} data URI does not decode: {e}"


def check_source_link(url, heading, cfg):
    "None if a show_doc source link names a line of the checkout that defines `heading`, else what is wrong."
    prefix = f"{cfg['git_url'].rstrip('/')}/blob/{cfg.get('branch', 'main')}/"
    if not url.startswith(prefix): return f"source link outside {prefix}: {url}"
    path, _, line = url[len(prefix):].partition('#L')
    if not (ROOT / path).is_file(): return f"source link to a missing file {path}"
    if not line.isdigit(): return None
    lines = (ROOT / path).read_text(encoding='utf-8').splitlines()
    n, name = int(line), heading.split('.')[-1]
    window = '\n'.join(lines[n - 1:n + 3])
    if n > len(lines) or not re.search(rf'^\s*(async\s+)?(def|class)\s+{re.escape(name)}\b', window, re.M):
        return f"source link {path}#L{n} does not point at the definition of {heading} (rebuild the docs?)"


def static_checks(out, page, expected, cfg, pages_ids, nb_rel):
    "Problems found in the HTML of docs/`out`."
    problems = []
    here = (DOCS / out).parent
    online = cfg.get('doc_host', '') + cfg.get('doc_baseurl', '') if cfg.get('doc_host') else None
    for href in page.links:
        url, _, frag = href.partition('#')
        if online and href.startswith(online):
            problems.append(f"link to the online docs not rewritten: {href}")
            continue
        if re.match(r'[a-z][a-z0-9+.-]*:', url): continue          # http(s), mailto: not fetched (source links below)
        target = (here / url).resolve() if url else (DOCS / out).resolve()
        if not target.exists(): problems.append(f"broken link: {href}"); continue
        if frag and target.suffix == '.html':
            rel = target.relative_to(DOCS.resolve()).as_posix() if DOCS.resolve() in target.parents else None
            if rel not in pages_ids: problems.append(f"link into a page outside docs/: {href}")
            elif html.unescape(frag) not in pages_ids[rel]:
                problems.append(f"broken link: no id '{frag}' on {rel} ({href})")
    for url, heading in page.sources:
        if (p := check_source_link(url, heading, cfg)): problems.append(p)
    for src in page.images:
        if (p := check_image(src)): problems.append(p)
    nav = [os.path.normpath(os.path.join(PurePosixPath(out).parent.as_posix(), h)).replace(os.sep, '/')
           for h in page.nav]
    if nav[1:] != expected and nav != expected:                   # the first link may be the site name (home)
        missing = [e for e in expected if e not in nav]
        problems.append("sidebar does not list the pages in order" + (f"; missing {missing}" if missing else ''))
    if page.scripts: problems.append(f"{page.scripts} <script> tags: pages are meant to be script-free")
    src = json.loads((NBS / nb_rel).read_text(encoding='utf-8'))
    if (module := default_exp(src)):
        mod = importlib.import_module(f"{cfg['lib_name']}.{module}")
        public = [n for n in getattr(mod, '__all__', [])
                  if inspect.isclass(getattr(mod, n)) or inspect.isfunction(getattr(mod, n))]
        documented = {heading for _, heading in page.sources}  # show_doc headings: each follows its source link
        if module.startswith('_'): documented |= set(page.headings)  # nbdev indexes no `_` module: no source links
        if (undocumented := [n for n in public if n not in documented]):
            problems.append(f"no show_doc for {undocumented} (public in {cfg['lib_name']}.{module})")
    has_math = any('$' in ''.join(c['source']) for c in src['cells'] if c['cell_type'] == 'markdown')
    if has_math and not page.math: problems.append("the notebook has $ math but the page no <math> element")
    return problems


def chromium():
    "The Chromium binary, or exit saying how to install it."
    for name in filter(None, [os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser', 'google-chrome']):
        if (path := shutil.which(name)): return path
    sys.exit("docs-check: no Chromium found; install the Debian package (apt-get install -y chromium) "
             "or set CHROMIUM=/path")


def run_chrome(binary, args, profile, timeout=90):
    "Run headless Chromium; its stdout ('' when it hangs)."
    try:
        res = subprocess.run([binary, *CHROME_FLAGS, f'--user-data-dir={profile}', *args], capture_output=True,
                             text=True, timeout=timeout)
    except subprocess.TimeoutExpired: return ''
    return res.stdout


def browser_checks(binary, out, tmp):
    "Problems the browser finds on docs/`out`, (top, height) in px of its first image, and the probe's report."
    probed = tmp / 'page.html'
    probed.write_text((DOCS / out).read_text(encoding='utf-8').replace('</body>', PROBE + '\n</body>'),
                      encoding='utf-8')
    dom = run_chrome(binary, ['--dump-dom', f'--window-size={WIDTH},{HEIGHT}', probed.as_uri()], tmp / 'profile')
    m = re.search(r'<pre id="docs-check-result">(.*?)</pre>', dom, re.S)
    if not m: return ["the browser did not finish loading the page (no probe result)"], None, {}
    r = json.loads(html.unescape(m.group(1)))
    problems = [f"image did not load in the browser: {s}" for s in r['broken']]
    if r['notMathML']: problems.append(f"{r['notMathML']} <math> elements not laid out as MathML")
    if r['emptyMath']: problems.append(f"{r['emptyMath']} <math> elements rendered with zero width")
    problems += [f"raw TeX left in the text: {t!r}" for t in r['tex']]
    return problems, r['anchor'], r


def main():
    global DOCS, SHOTS
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--docs', default='docs', help='the built site, relative to the project root (default: docs)')
    parser.add_argument('--shots', default='_docs_check', help='folder for the screenshots (default: _docs_check)')
    args = parser.parse_args()
    DOCS, SHOTS = ROOT / args.docs, ROOT / args.shots
    cfg = settings()
    notebooks = source_notebooks()
    expected = [page_name(rel) for rel in notebooks]
    problems = {}
    if not (ROOT / 'README.md').is_file() or not (ROOT / 'README.md').read_text(encoding='utf-8').strip():
        problems['README.md'] = ["missing or empty"]
    parsed = {}
    for out in expected:
        if not (DOCS / out).is_file(): problems[out] = ["missing page (run `make docs`)"]
        else: parsed[out] = Page((DOCS / out).read_text(encoding='utf-8'))
    pages_ids = {out: p.ids for out, p in parsed.items()}
    binary = chromium()
    anchors = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for rel, out in zip(notebooks, expected):
            if out not in parsed: continue
            found = static_checks(out, parsed[out], expected, cfg, pages_ids, rel)
            in_browser, anchors[out], r = browser_checks(binary, out, tmp)
            found += in_browser
            if found: problems[out] = found
            print(f"{'FAIL' if found else 'ok  '}  docs/{out}: {len(parsed[out].links)} links, "
                  f"{len(parsed[out].images)} images "
                  f"({len(r.get('broken', []))} broken), {r.get('math', 0)} math")
        SHOTS.mkdir(exist_ok=True)
        for name, out in SCREENSHOTS.items():
            if out not in parsed: continue
            shot, (img_top, img_height) = SHOTS / f'{name}.png', anchors.get(out) or (0, 0)
            # the figure at the bottom, the text above it
            top = max(0, img_top + min(img_height, HEIGHT // 2) + 40 - HEIGHT)
            top = top if name != 'index' and top + HEIGHT <= TALLEST else 0
            shot.unlink(missing_ok=True)
            run_chrome(binary, [f'--screenshot={shot}', f'--window-size={WIDTH},{top + HEIGHT}', (DOCS / out).as_uri()],
                       tmp / 'profile')
            if not shot.is_file(): problems.setdefault(out, []).append("the browser wrote no screenshot"); continue
            with Image.open(shot) as im: im.crop((0, top, WIDTH, top + HEIGHT)).save(shot)
            print(f"screenshot {shot.relative_to(ROOT)}  <- docs/{out}, from {top} px down")
    if problems:
        print(f"\ndocs-check: {sum(map(len, problems.values()))} problems on {len(problems)} pages")
        for out, found in problems.items():
            for p in found: print(f"  {out}: {p}")
        sys.exit(1)
    print(f"docs-check: {len(expected)} pages ok (links, source links, images, math, sidebar, show_doc)")


if __name__ == '__main__': main()
