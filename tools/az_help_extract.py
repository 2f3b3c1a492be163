#!/usr/bin/env python3
"""Regenerates tests/fixtures/az-help/pwsh-params.txt from Az PowerShell's help files.

Usage:
    git clone --filter=blob:none --sparse https://github.com/Azure/azure-powershell ap
    git -C ap sparse-checkout set src/Sql/Sql/help src/KeyVault/KeyVault/help \
        src/Resources src/Accounts/Accounts/help src/ManagedServiceIdentity
    python3 tools/az_help_extract.py ap Cmdlet-Name [Cmdlet-Name ...] > tests/fixtures/az-help/pwsh-params.txt

For each cmdlet, it finds `<Cmdlet>.md` under the checkout, reads its `## PARAMETERS`
section (one `### -Param` heading per parameter, one ```yaml block per parameter set) and
its `## SYNTAX` section (the `(Default)` set), and prints one line:

    Cmdlet<TAB>commit<TAB>=DefaultSet Name|Alias:kind[Set=!0;Other=1] ...

in the encoding of the `params` tables of src/shell/pwsh.rs: `:s` a SwitchParameter, `:b`
a Boolean or Nullable<Boolean>, `[...]` the sets the parameter is in (`*` for all), `!`
mandatory there, then its position there; no brackets when it is in every set, optional
and named. The common parameters (and -ProgressAction) are left out, as the table adds them.
tests/it/pwsh.rs compares the table with this file.
"""
import re
import subprocess
import sys
from pathlib import Path


def kind(type_name):
    if type_name.endswith("SwitchParameter"):
        return ":s"
    if type_name in ("System.Boolean", "System.Nullable`1[System.Boolean]"):
        return ":b"
    return ""


def parse(md):
    text = md.read_text(encoding="utf-8")
    default = None
    syntax = text.split("## SYNTAX", 1)[-1].split("## DESCRIPTION", 1)[0]
    m = re.search(r"^### (\S+) \(Default\)", syntax, re.M)
    if m:
        default = m.group(1)
    params = text.split("## PARAMETERS", 1)[-1].split("\n## ", 1)[0]
    entries = []
    for block in re.split(r"^### -", params, flags=re.M)[1:]:
        name = block.split("\n", 1)[0].strip()
        if name == "ProgressAction":
            continue
        aliases, sets, typ = [], [], ""
        for y in re.findall(r"```yaml\n(.*?)```", block, re.S):
            f = dict(
                (k.strip(), v.strip())
                for k, v in (l.split(":", 1) for l in y.splitlines() if ":" in l)
            )
            typ = f.get("Type", typ)
            aliases = [a.strip() for a in f.get("Aliases", "").split(",") if a.strip()] or aliases
            pos = f.get("Position", "Named")
            req = f.get("Required", "False") == "True"
            for s in f.get("Parameter Sets", "(All)").split(","):
                s = s.strip()
                s = "*" if s == "(All)" else s
                how = ("!" if req else "") + ("" if pos == "Named" else pos)
                sets.append(f"{s}={how}" if how else s)
        entry = "|".join([name] + aliases) + kind(typ)
        if sets and sets != ["*"]:
            entry += "[" + ";".join(sets) + "]"
        entries.append(entry)
    if default:
        entries.insert(0, "=" + default)
    return entries


def main():
    root = Path(sys.argv[1])
    for cmdlet in sys.argv[2:]:
        found = [p for p in root.rglob(f"{cmdlet}.md") if "help" in p.parts or "docs" in p.parts]
        if not found:
            print(f"# {cmdlet}: no help file", file=sys.stderr)
            continue
        md = found[0]
        commit = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%H", "--", str(md.relative_to(root))],
            capture_output=True, text=True,
        ).stdout.strip()
        # Help files read one by one (not a checkout): the commit they were read at, beside them.
        sidecar = md.with_name(md.name + ".commit")
        if not commit and sidecar.exists():
            commit = sidecar.read_text(encoding="utf-8").strip()
        print(f"{cmdlet}\t{commit}\t{' '.join(parse(md))}")


if __name__ == "__main__":
    main()
