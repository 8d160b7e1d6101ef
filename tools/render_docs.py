"""Render the processed notebooks in `_proc/` into a static, offline site in `docs/`.

Usage: python tools/render_docs.py   (after `nbdev_proc_nbs`; `make docs` runs both through tools/docs.sh)

No quarto and no network: pandoc 2.17 turns each notebook into one self-contained HTML page with MathML
math, images as data URIs, inline CSS and no scripts. Before pandoc, each processed notebook is adjusted:
its raw YAML front matter becomes the page title and description (read as markdown), `text/markdown`
outputs (`show_doc`) become markdown cells, null execution counts get numbers, and quarto cell options
(`#| echo: false`, `output: false`, `include: false`) are applied, then removed from the shown code.
After pandoc, links to notebooks (`02_s4d.ipynb#x`) and to the online docs (`doc_host`+`doc_baseurl`)
become relative links between the pages; nbdev's automatic links to names that have no `show_doc` anchor on
their page (private helpers) are unlinked, with a note. Every page gets a sidebar listing all pages in reading order:
`index`, numbered notebooks (in sections: theory, layers, model, data, training, tasks, interpretation),
other top-level notebooks, then `benchmarks/`, `examples/`, other folders.
The output is deterministic (no dates), so `docs/` can be committed. The script exits non-zero, naming
the notebook, when pandoc fails or cannot convert some math; old pages are replaced only after all
pages rendered.
"""
import configparser, html, json, os, re, subprocess, sys, tempfile
from pathlib import Path, PurePosixPath
import yaml

ROOT = Path(__file__).resolve().parent.parent
NBS, PROC, DOCS = ROOT/'nbs', ROOT/'_proc', ROOT/'docs'
# Notebook markdown as Jupyter reads it, plus the pandoc/quarto bits nbdev writes: `::: {.callout-note}`,
# `{#id}` headings, `[source](url){target="_blank"}` links; pandoc's own heading ids (`s4d.forward`,
# as nbdev's doc links expect) instead of GitHub's (`s4dforward`).
FROM = 'ipynb+fenced_divs+header_attributes+link_attributes+footnotes-gfm_auto_identifiers'
FOLDER_ORDER = ['benchmarks', 'examples']  # after the top-level notebooks; other folders follow, by name
# Sidebar sections of the numbered top-level notebooks, by number (`03a_x` counts as 3): the reading order
# theory -> layers -> model -> data -> training -> tasks -> interpretation. Folders are sections of their own.
SECTIONS = {0: 'Theory', 1: 'Layers', 2: 'Layers', 3: 'Layers', 4: 'Model', 5: 'Data', 6: 'Training',
            7: 'Training', 8: 'Tasks', 9: 'Interpretation', 10: 'Reliability'}

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$pagetitle$ – $site$</title>
$if(description-meta)$<meta name="description" content="$description-meta$">
$endif$$for(css)$<link rel="stylesheet" href="$css$">
$endfor$$if(highlighting-css)$<style>
$highlighting-css$
</style>
$endif$</head>
<body>
<nav class="sidebar">
$sidebar$
</nav>
<main>
<header>
<h1 class="title">$title$</h1>
$if(description)$<p class="description">$description$</p>
$endif$$if(source)$<p class="source">$source$</p>
$endif$</header>
$body$
<footer class="pager">$pager$</footer>
</main>
</body>
</html>
"""

# Empty code blocks come from hidden sources (`#| echo: false`); remote images stay links
# (`data-external` keeps `--self-contained` from fetching them).
LUA_FILTER = """
function CodeBlock(b) if b.text == '' then return {} end end
function Image(img)
  if img.src:match('^https?://') then img.attributes['external'] = '1' end
  return img
end
"""

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --code-bg: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; display: flex; color: var(--fg); background: #fff;
  font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
nav.sidebar { position: sticky; top: 0; height: 100vh; overflow-y: auto; flex: 0 0 16rem;
  padding: 1.5rem 1rem; background: #f9fafb; border-right: 1px solid var(--line); font-size: .92rem; }
nav.sidebar .site { display: block; font-size: 1.2rem; font-weight: 700; color: var(--fg); margin-bottom: 1rem; }
nav.sidebar .group { margin: 1.2rem 0 .3rem .5rem; font-size: .75rem; font-weight: 600;
  letter-spacing: .06em; text-transform: uppercase; color: var(--muted); }
nav.sidebar ul { list-style: none; margin: 0; padding: 0; }
nav.sidebar li a { display: block; padding: .2rem .5rem; border-radius: 6px; color: var(--fg); }
nav.sidebar li a:hover { background: #eaeef2; text-decoration: none; }
nav.sidebar li a.active { background: #ddf4ff; color: var(--accent); font-weight: 600; }
main { flex: 1; min-width: 0; max-width: 54rem; padding: 2rem 3rem 4rem; }
header { border-bottom: 1px solid var(--line); margin-bottom: 1.5rem; padding-bottom: .8rem; }
header .title { margin: 0 0 .3rem; font-size: 2.2rem; }
header .description { margin: 0; font-size: 1.15rem; color: var(--muted); }
header .source { margin: .5rem 0 0; font-size: .85rem; color: var(--muted); }
h1, h2, h3, h4 { line-height: 1.25; margin: 1.8rem 0 .8rem; }
h2 { padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
img { max-width: 100%; height: auto; }
hr { border: 0; border-top: 1px solid var(--line); margin: 2rem 0 1rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .86em; }
:not(pre) > code { background: var(--code-bg); padding: .1em .35em; border-radius: 4px; }
pre { margin: 0; padding: .7rem 1rem; overflow-x: auto; line-height: 1.45;
  background: var(--code-bg); border: 1px solid var(--line); border-radius: 6px; }
.cell.code { margin: 1rem 0; }
.output { margin-top: .3rem; overflow-x: auto; }
.output pre { background: none; border: 0; border-left: 3px solid #f0a868; border-radius: 0; padding: .2rem .9rem; }
.output.error pre { border-left-color: #cf222e; }
blockquote { margin: 1rem 0; padding: .1rem 1rem; color: var(--muted); border-left: 4px solid var(--line); }
blockquote > pre { color: var(--fg); border: 0; }
header + .cell > hr:first-child { display: none; }
math[display="block"] { margin: .6em 0; }
math { font-family: "STIX Two Math", "Latin Modern Math", "Cambria Math", math; font-size: 1.05em; }
table { display: block; overflow-x: auto; border-collapse: collapse; margin: 1rem 0; font-size: .92rem; }
th, td { border: 1px solid var(--line); padding: .35rem .75rem; text-align: left; vertical-align: top; }
thead th, thead td { background: var(--code-bg); }
div[class^="callout"] { margin: 1rem 0; padding: .5rem 1rem; border-left: 4px solid var(--accent);
  background: #f1f8ff; border-radius: 6px; }
div.callout-warning, div.callout-caution { border-left-color: #bf8700; background: #fff8c5; }
div.callout-important { border-left-color: #cf222e; background: #ffebe9; }
div.callout-tip { border-left-color: #1a7f37; background: #dafbe1; }
footer.pager { display: flex; justify-content: space-between; gap: 1rem; margin-top: 3rem;
  padding-top: 1rem; border-top: 1px solid var(--line); }
@media (max-width: 52rem) {
  body { display: block; }
  nav.sidebar { position: static; height: auto; border-right: 0; border-bottom: 1px solid var(--line); }
  main { padding: 1rem; }
}
"""


def settings():
    "The `[DEFAULT]` section of settings.ini."
    cp = configparser.ConfigParser(delimiters=['='], interpolation=None)
    cp.read(ROOT/'settings.ini', encoding='utf-8')
    return cp['DEFAULT']


def sort_key(rel):
    "Reading order: index, top-level notebooks by name (00_, 01_, 03a_...), then folders."
    rel = PurePosixPath(rel)
    if len(rel.parts) == 1: return (0 if rel.name == 'index.ipynb' else 1, 0, '', str(rel))
    top = rel.parts[0]
    rank = FOLDER_ORDER.index(top) if top in FOLDER_ORDER else len(FOLDER_ORDER)
    return (2, rank, top, str(rel))


def source_notebooks():
    "Notebooks under nbs/ that nbdev renders (names and folders starting with `_` or `.` are skipped)."
    nbs = [p.relative_to(NBS).as_posix() for p in NBS.rglob('*.ipynb')]
    nbs = [r for r in nbs if not any(part[0] in '_.' for part in PurePosixPath(r).parts)]
    return sorted(nbs, key=sort_key)


def front_matter(nb):
    "The YAML dict of the processed notebook's first cell (raw, between `---` lines), or {}."
    if nb['cells'] and nb['cells'][0]['cell_type'] == 'raw':
        src = ''.join(nb['cells'][0]['source']).strip()
        if src.startswith('---'): return yaml.safe_load(src.strip('-')) or {}
    return {}


def default_exp(src_nb):
    "The module a notebook exports to (`#| default_exp x.y`), or None."
    for cell in src_nb['cells']:
        m = re.search(r'^#\|\s*default_exp\s+(\S+)', ''.join(cell['source']), re.M)
        if cell['cell_type'] == 'code' and m: return m.group(1)


def load_page(rel):
    "Read `_proc/rel` and its front matter: the page's title, description, output path and module."
    proc = PROC/rel
    if not proc.exists(): sys.exit(f"docs: {PROC.name}/{rel} is missing; run nbdev_proc_nbs first")
    nb = json.loads(proc.read_text(encoding='utf-8'))
    fm = front_matter(nb)
    out = PurePosixPath(rel).parent/fm.get('output-file', PurePosixPath(rel).stem + '.html')
    src = json.loads((NBS/rel).read_text(encoding='utf-8'))
    return dict(rel=rel, nb=nb, out=out.as_posix(), title=str(fm.get('title', PurePosixPath(rel).stem)),
                description=str(fm.get('description', '')), module=default_exp(src))


def cell_options(source):
    "Split quarto/nbdev `#|` option lines at the top of a code cell from the code: (options, code)."
    lines = source.splitlines(keepends=True)
    n = 0
    while n < len(lines) and lines[n].lstrip().startswith('#|'): n += 1
    opts = {}
    for line in lines[:n]:
        key, _, val = line.strip()[2:].partition(':')
        opts[key.strip()] = val.strip().lower()
    return opts, ''.join(lines[n:]).strip('\n')


def md_cell(text): return dict(cell_type='markdown', metadata={}, source=text)
def code_cell(source, n): return dict(cell_type='code', metadata={}, execution_count=n, source=source, outputs=[])


def prepare(nb):
    "Adjust a processed notebook for pandoc: no front matter, options applied, markdown outputs as cells."
    cells, n = [], 0
    for cell in nb['cells']:
        if cell['cell_type'] == 'raw' and not cells and front_matter(nb): continue
        if cell['cell_type'] == 'markdown' and re.fullmatch(r'\s*<!--.*?-->\s*', ''.join(cell['source']), re.S):
            continue  # nbdev's "DO NOT EDIT" comment
        if cell['cell_type'] != 'code':
            cells.append(cell)
            continue
        opts, code = cell_options(''.join(cell['source']))
        if opts.get('include') == 'false': continue
        n += 1
        outputs = [] if opts.get('output') == 'false' else cell.get('outputs', [])
        # Outputs keep their order: a markdown output closes the current code cell and starts a new one.
        cur = code_cell('' if opts.get('echo') == 'false' else code, n)
        for out in outputs:
            if out.get('execution_count', 0) is None: out['execution_count'] = n
            md = out.get('data', {}).get('text/markdown')
            if md is None: cur['outputs'].append(out)
            else:
                if cur['source'] or cur['outputs']: cells.append(cur)
                cells.append(md_cell(''.join(md)))
                cur = code_cell('', n)
        if cur['source'] or cur['outputs']: cells.append(cur)
    return dict(nb, cells=cells)


def relative(target, page):
    "Link from docs/`page` to docs/`target` (both posix paths relative to docs/)."
    return os.path.relpath(target, PurePosixPath(page).parent.as_posix() or '.').replace(os.sep, '/')


def rewrite_links(body, page, pages, online):
    "Point links to notebooks (`x.ipynb#a`) and to the online docs (`online`+`x.html`) at the local pages."
    outs = {p['out'] for p in pages}
    by_nb = {p['rel']: p['out'] for p in pages}

    def fix(m):
        url, frag = m.group(2), m.group(3) or ''
        target = None
        if online and url.startswith(online) and url[len(online):] in outs: target = url[len(online):]
        elif url.endswith('.ipynb') and '://' not in url:
            rel = os.path.normpath(os.path.join(os.path.dirname(page['rel']), url)).replace(os.sep, '/')
            target = by_nb.get(rel)
            if target is None:
                print(f"warning: nbs/{page['rel']}: link to unknown notebook {url}", file=sys.stderr)
        if target is None: return m.group(0)
        doclink = ' class="doclink"' if online and url.startswith(online) else ''  # nbdev's link for a `name`
        return f'{m.group(1)}"{relative(target, page["out"])}{frag}"{doclink}'
    return re.sub(r'(<a href=)"([^"#]*)(#[^"]*)?"', fix, body)


def unlink_missing(body, page, ids):
    "Unlink nbdev's links to names that have no `show_doc` heading (no anchor) on their page: they stay as code."
    lost = []

    def fix(m):
        target = os.path.normpath(os.path.join(os.path.dirname(page['out']), m.group(1) or page['out']))
        target = target.replace(os.sep, '/')
        if html.unescape(m.group(2)) in ids.get(target, set()): return m.group(0)
        lost.append(f"{target}#{m.group(2)}")
        return m.group(3)
    body = re.sub(r'<a href="([^"#]*)#([^"]*)" class="doclink"[^>]*>(.*?)</a>', fix, body, flags=re.S)
    if lost: print(f"note: nbs/{page['rel']}: {len(lost)} names linked by nbdev have no show_doc on their page, "
                   f"left unlinked: {', '.join(sorted(set(lost)))}", file=sys.stderr)
    return body


def label(page):
    "A page's title as link text: HTML-escaped, without markdown's backticks and asterisks."
    return html.escape(re.sub(r'[`*]', '', page['title']))


def section(rel):
    "The sidebar section of a notebook: '' for the home page, its folder's name, or its number's entry in SECTIONS."
    rel = PurePosixPath(rel)
    if len(rel.parts) > 1: return rel.parts[0].replace('_', ' ').title()
    if rel.name == 'index.ipynb': return ''
    m = re.match(r'(\d+)[a-zA-Z]?_', rel.name)
    return SECTIONS.get(int(m.group(1)), 'Other') if m else 'Other'


def sidebar(page, pages, site):
    "The navigation list in sections, the current page marked `active`."
    home = next((p['out'] for p in pages if p['rel'] == 'index.ipynb'), pages[0]['out'])
    res, group = [f'<a class="site" href="{relative(home, page["out"])}">{html.escape(site)}</a>', '<ul>'], ''
    for p in pages:
        if (name := section(p['rel'])) != group:
            group = name
            res += ['</ul>', f'<div class="group">{html.escape(name)}</div>', '<ul>']
        active = ' class="active"' if p is page else ''
        res.append(f'<li><a{active} href="{relative(p["out"], page["out"])}">{label(p)}</a></li>')
    return '\n'.join(res + ['</ul>'])


def pager(page, pages):
    "Previous and next links in reading order."
    i = pages.index(page)
    link = lambda p, text: f'<a href="{relative(p["out"], page["out"])}">{text}</a>'
    prev = link(pages[i-1], f'← {label(pages[i-1])}') if i else '<span></span>'
    nxt = link(pages[i+1], f'{label(pages[i+1])} →') if i + 1 < len(pages) else '<span></span>'
    return prev + nxt


def source_line(page, lib_path):
    "Where the page comes from: the notebook, and the module it exports to."
    # `class` before `href` keeps `rewrite_links` (which reads pandoc's `<a href=`) off these links.
    link = lambda path: f'<a class="repo" href="{relative("../" + path, page["out"])}"><code>{path}</code></a>'
    res = f'Notebook: {link("nbs/" + page["rel"])}'
    if page['module']:
        res = f'Source: {link(lib_path + "/" + page["module"].replace(".", "/") + ".py")} · ' + res
    return res


def render(page, pages, cfg, tmp):
    "The page's HTML from pandoc; exit naming the notebook when pandoc fails or cannot convert math."
    nb_path = tmp/'page.ipynb'
    nb_path.write_text(json.dumps(prepare(page['nb'])), encoding='utf-8')
    # Title and description go in as YAML metadata, which pandoc reads as markdown (`code`, $math$).
    meta = tmp/'meta.yaml'
    fm = {k: page[k] for k in ('title', 'description') if page[k]}
    meta.write_text(yaml.safe_dump(fm, allow_unicode=True), encoding='utf-8')
    site = cfg.get('title', cfg['lib_name'])
    # Template variables (`-V`) go in as given (HTML).
    variables = dict(site=html.escape(site), sidebar=sidebar(page, pages, site), pager=pager(page, pages),
                     source=source_line(page, cfg.get('lib_path', cfg['lib_name'])))
    folder = (PROC/page['rel']).parent  # relative image paths resolve from here
    cmd = ['pandoc', '-f', FROM, '-t', 'html5', '-s', '--mathml', '--self-contained', '--wrap=preserve',
           '--template', str(tmp/'page.html'), '--lua-filter', str(tmp/'filter.lua'),
           '--css', str(tmp/'styles.css'), '--resource-path', str(folder), '--metadata-file', str(meta)]
    cmd += [a for k, v in variables.items() for a in ('-V', f'{k}={v}')] + [str(nb_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=folder)
    if res.returncode != 0:
        sys.exit(f"docs: pandoc failed on nbs/{page['rel']} (exit {res.returncode}):\n{res.stderr}")
    if 'Could not convert TeX math' in res.stderr:
        sys.exit(f"docs: pandoc cannot turn some math of nbs/{page['rel']} into MathML:\n{res.stderr}")
    for line in res.stderr.splitlines(): print(f"warning: nbs/{page['rel']}: {line}", file=sys.stderr)
    online = cfg.get('doc_host', '') + cfg.get('doc_baseurl', '') + '/' if cfg.get('doc_host') else None
    body = rewrite_links(res.stdout, page, pages, online)
    if 'data-external="1"' in body:
        print(f"warning: nbs/{page['rel']}: remote images are linked, not embedded", file=sys.stderr)
    return body


def write_readme(pages, cfg, tmp):
    "README.md from the home notebook as GitHub markdown: what `nbdev_readme` writes where quarto exists."
    page = next((p for p in pages if p['rel'] == cfg.get('readme_nb', 'index.ipynb')), None)
    if page is None: sys.exit(f"docs: the readme notebook nbs/{cfg.get('readme_nb')} is missing")
    nb_path = tmp/'readme.ipynb'
    nb_path.write_text(json.dumps(prepare(page['nb'])), encoding='utf-8')
    unwrap = tmp/'unwrap.lua'
    unwrap.write_text('function Div(el) return el.content end\n', encoding='utf-8')  # drop pandoc's cell divs
    res = subprocess.run(['pandoc', '-f', FROM, '-t', 'gfm+tex_math_dollars', '--wrap=none', '--lua-filter',
                          str(unwrap), str(nb_path)], capture_output=True, text=True)
    if res.returncode != 0: sys.exit(f"docs: pandoc failed writing README.md from nbs/{page['rel']}:\n{res.stderr}")
    head = f"# {page['title']}\n\n" + (f"> {page['description']}\n\n" if page['description'] else '')
    note = "<!-- generated from nbs/index.ipynb by `make docs`; edit the notebook, not this file -->\n\n"
    (ROOT/'README.md').write_text(head + note + res.stdout, encoding='utf-8')
    print(f"wrote README.md  <- nbs/{page['rel']}")


def clean_docs():
    "Remove the HTML pages of an earlier build (other files in docs/ stay), then empty folders."
    for p in DOCS.rglob('*.html'): p.unlink()
    for d in sorted((d for d in DOCS.rglob('*') if d.is_dir()), key=lambda d: -len(d.parts)):
        if not any(d.iterdir()): d.rmdir()


def main():
    "Render every notebook, then replace docs/*.html with the new pages."
    cfg = settings()
    pages = [load_page(rel) for rel in source_notebooks()]
    if not pages: sys.exit("docs: no notebooks found in nbs/")
    dup = {p['out'] for p in pages if [q['out'] for q in pages].count(p['out']) > 1}
    if dup: sys.exit(f"docs: several notebooks render to {sorted(dup)}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp/'page.html').write_text(TEMPLATE, encoding='utf-8')
        (tmp/'filter.lua').write_text(LUA_FILTER, encoding='utf-8')
        (tmp/'styles.css').write_text(CSS.lstrip(), encoding='utf-8')
        rendered = [(page, render(page, pages, cfg, tmp)) for page in pages]
        write_readme(pages, cfg, tmp)
    ids = {page['out']: set(map(html.unescape, re.findall(r' id="([^"]+)"', body))) for page, body in rendered}
    rendered = [(page, unlink_missing(body, page, ids)) for page, body in rendered]
    # Only a complete build replaces the old pages.
    DOCS.mkdir(exist_ok=True)
    clean_docs()
    for page, body in rendered:
        out = DOCS/page['out']
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(body, encoding='utf-8')
        print(f"wrote docs/{page['out']}  <- nbs/{page['rel']}")
    (DOCS/'.nojekyll').touch()
    print(f"docs: {len(pages)} pages in {DOCS.relative_to(ROOT)}/")


if __name__ == '__main__': main()
