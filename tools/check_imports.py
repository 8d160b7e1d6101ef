"""The package's reading order, checked: every module of lyra_nb is exported by one numbered notebook (an
insert takes a letter: 06a_thermo comes after 06 and before 07), and

1. a module imports only modules exported by notebooks numbered before its own (so there are no circles);
2. package modules are imported at the top of a module, never inside a function or class (other packages may be:
   an optional dependency such as ViennaRNA's `RNA` is imported where it is used);
3. no module imports another module's `_private` names.

Run from the repository root: `python tools/check_imports.py`. Prints each violation and exits 1 if there is any."""
import ast, re, sys
from pathlib import Path

PACKAGE = Path('lyra_nb')
SOURCE = re.compile(r'File to edit: \.\./nbs/(\d+)([a-z]?)_\w+\.ipynb')  # 06a_thermo: an insert after 06


def notebook_number(path: Path) -> tuple: # (number, letter): 06 < 06a < 06b < 07
    "The number (and insert letter) of the notebook that exports `path`, read from nbdev's header."
    m = SOURCE.search(path.read_text(encoding='utf-8')[:500])
    if not m: raise SystemExit(f"{path}: no 'File to edit: ../nbs/NN_name.ipynb' header; is it exported by nbdev?")
    return int(m.group(1)), m.group(2)


def label(number: tuple) -> str: # '06a'
    "A notebook number as its file name writes it."
    return f"{number[0]:02d}{number[1]}"


def package_imports(tree: ast.Module, module: str) -> list:
    "(imported module, imported names, line, at top level) for each import of a lyra_nb module."
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1: target = node.module or ''
            elif node.level == 0 and (node.module or '').startswith('lyra_nb'):
                target = node.module.removeprefix('lyra_nb').lstrip('.')
            else: continue
            names = [a.name for a in node.names]
            if not target: target, names = names[0], []  # `from . import data`
            found.append((target.split('.')[0], names, node.lineno, id(node) in top))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith('lyra_nb.'): found.append((a.name.split('.')[1], [], node.lineno, id(node) in top))
    return found


def violations(package: Path = PACKAGE, # the package folder
              ) -> list: # one message per violation
    "Every import of `package` that breaks the reading order."
    modules = {p.stem: p for p in sorted(package.glob('*.py')) if p.stem not in ('__init__', '_modidx')}
    number = {m: notebook_number(p) for m, p in modules.items()}
    problems = []
    for m, path in modules.items():
        for target, names, line, at_top in package_imports(ast.parse(path.read_text(encoding='utf-8')), m):
            where = f"{path}:{line}"
            if target not in number:
                problems.append(f"{where}: imports lyra_nb.{target}, which no notebook exports")
                continue
            if not at_top:
                problems.append(f"{where}: imports lyra_nb.{target} inside a function or class; import at the top")
            if number[target] >= number[m]:
                problems.append(f"{where}: lyra_nb.{m} (notebook {label(number[m])}) imports lyra_nb.{target} "
                                f"(notebook {label(number[target])}); "
                                "a module may import only modules of earlier notebooks")
            if private := [n for n in names if n.startswith('_')]:
                problems.append(f"{where}: imports private names {private} from lyra_nb.{target}")
    return problems


if __name__ == '__main__':
    found = violations()
    for p in found: print(p)
    n = len([p for p in PACKAGE.glob('*.py') if p.stem not in ('__init__', '_modidx')])
    print(f"import order: {n} modules, {len(found)} violations")
    sys.exit(1 if found else 0)
