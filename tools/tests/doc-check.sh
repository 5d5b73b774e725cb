#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The documentation's check, on the host (no guest, no build): every file
# and directory pcache creates under /sys/kernel/mm/pcache/ must be in the
# ABI document and in the admin guide, and every module parameter in the
# guide's "Module parameters" section; and nothing the module does not
# create may be documented as if it did.
#
# Where the list of sysfs files comes from: the module's sources, read the
# way the core builds the tree.  pcache makes every file through one path
# (module/sysfs.c): the root's attribute group, then, for each entry of
# pcache_features[] (core.c), its struct pcache_feature_files: its
# attribute groups in its sysfs_dir (or in a subdir of it), and its
# stat_groups in stats/ below that.  The script expands the module's own
# macros (PCACHE_UINT_KNOB, REPL_STAT, ...) as the preprocessor would,
# follows attribute arrays to groups, groups to group lists, lists to
# feature files and those to the feature table, and applies the one
# is_visible() rule there is (tmem's stats_visible(): no shared_* in
# persistent/stats/).  It refuses to guess: a sysfs call anywhere in
# module/ other than the ones listed in KNOWN_SITES below, an attribute it
# cannot name, an is_visible() it does not know, or a known site that is
# gone, stops it with exit 2 and says what to teach it.  To check the
# derived list against a running module, take the tree in a guest:
#
#   find /sys/kernel/mm/pcache -type d -printf '%p/\n' -o -printf '%p\n' > T
#   tools/tests/doc-check.sh --tree T
#
# Where the guide documents a file: a paragraph "Files in ``DIR``:" (DIR
# is /sys/kernel/mm/pcache/..., "{a,b}" expands as in the ABI file) starts
# DIR's block, which ends at the next "Files in ``...``:" line or section
# heading; each file is a definition-list term in it (its name alone on a
# line at column 0, optionally as ``name``, with its text indented below).
# In the ABI file, a file is a What: line (braces expanded), or, for a
# counter, its name as a word in the Description of its stats/ directory.
#
# Usage: tools/tests/doc-check.sh [--list] [--tree FILE]
#   --list	print the derived paths, one a line (directories end in /)
#   --tree F	also compare them with the tree listed in F
# ABI=FILE and GUIDE=FILE check other copies (how the check is checked).
# Exit: 0 all documented, 1 something missing or stale, 2 cannot derive.
# With docutils installed (python3 -m docutils; Debian: python3-docutils)
# the guide is also rendered, and an rst error or warning is a failure.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
export ABI=${ABI:-Documentation/ABI/testing/sysfs-kernel-mm-pcache}
export GUIDE=${GUIDE:-Documentation/admin-guide/mm/pcache.rst}
exec python3 - "$@" <<'PYTHON'
import glob
import os
import re
import sys

ROOT = "/sys/kernel/mm/pcache"
failures = []


def die(msg):
    print("doc-check: cannot derive the sysfs tree: " + msg)
    print("doc-check: teach tools/tests/doc-check.sh what changed")
    sys.exit(2)


def strip_comments(s):
    """Comments out, strings kept, line count kept."""
    def repl(m):
        if m.group(1):
            return m.group(1)
        return "\n" * m.group(0).count("\n") or " "
    return re.sub(r'("(?:\\.|[^"\\\n])*")|/\*.*?\*/|//[^\n]*', repl, s,
                  flags=re.S)


def split_args(s, i):
    """Arguments of the call whose '(' is at s[i]; (args, end index)."""
    depth, args, cur, j = 0, [], "", i
    while j < len(s):
        c = s[j]
        if c == '"':
            m = re.compile(r'"(?:\\.|[^"\\])*"').match(s, j)
            cur += m.group(0)
            j = m.end()
            continue
        if c in "([{":
            depth += 1
            if depth == 1:
                j += 1
                continue
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append(cur.strip())
                return args, j + 1
        elif c == "," and depth == 1:
            args.append(cur.strip())
            cur = ""
            j += 1
            continue
        cur += c
        j += 1
    die("unbalanced parentheses")


# The module's sources, comments out; JOINED has continuation lines joined.
SRC, JOINED = {}, {}
for f in sorted(glob.glob("module/**/*.[ch]", recursive=True)):
    if f.endswith(".mod.c"):
        continue
    with open(f) as fh:
        SRC[f] = strip_comments(fh.read())
    JOINED[f] = SRC[f].replace("\\\n", "  ")
C_FILES = [f for f in SRC if f.endswith(".c")]
if "module/sysfs.c" not in SRC or "module/core.c" not in SRC:
    die("run from the pcache tree: module/sysfs.c or module/core.c missing")

# Function-like macros of the module: name -> (params, body).
MACROS = {}
for f, s in JOINED.items():
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(\w+)\(([^)]*)\)"
                         r"[ \t]*([^\n]*)", s, re.M):
        params = [p.strip() for p in m.group(2).split(",") if p.strip()]
        MACROS[m.group(1)] = (params, m.group(3))


def expand(s, depth=0):
    """Expand the module's function-like macros in s (## pasted)."""
    if depth > 8:
        die("macros nest too deep")
    out, i = [], 0
    for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", s):
        if m.start() < i or m.group(1) not in MACROS:
            continue
        if re.match(r"[ \t]*#[ \t]*define", s[s.rfind("\n", 0, m.start())
                                              + 1:m.start()]):
            continue		# the definition itself
        params, body = MACROS[m.group(1)]
        args, end = split_args(s, m.end() - 1)
        sub = {}
        for k, p in enumerate(params):
            if p.endswith("..."):
                sub[p[:-3]] = ", ".join(args[k:])
            else:
                sub[p] = args[k] if k < len(args) else ""
        if sub:
            body = re.sub(r"\b(" + "|".join(map(re.escape, sub)) + r")\b",
                          lambda x: sub[x.group(1)], body)
        body = re.sub(r"\s*##\s*", "", body)
        out.append(s[i:m.start()])
        out.append(expand(body, depth + 1))
        i = end
    out.append(s[i:])
    return "".join(out)


EXP = {f: expand(s) for f, s in JOINED.items() if f.endswith(".c")}
ALL = "\n".join(EXP.values())

# Where sysfs files can be made, and nothing else.
CALLS = r"\b(sysfs_create_\w+|sysfs_add_\w+|sysfs_merge_group|" \
        r"kobject_create_and_add|kobject_init_and_add|kobject_add|" \
        r"device_create_file|pcache_sysfs_dir_add|debugfs_create_\w+|" \
        r"module_param\w*)\s*\("
KNOWN_SITES = [
    ("module/pcache.h", "pcache_sysfs_dir_add", r"struct kobject \*parent"),
    ("module/sysfs.c", "pcache_sysfs_dir_add", r"struct kobject \*parent"),
    ("module/sysfs.c", "kobject_init_and_add", r"&d->kobj"),
    ("module/sysfs.c", "sysfs_create_groups", r"&d->kobj"),
    ("module/sysfs.c", "pcache_sysfs_dir_add", r"dir"),
    ("module/sysfs.c", "sysfs_create_groups", r"dir"),
    ("module/sysfs.c", "pcache_sysfs_dir_add", r"kobj"),
    ("module/sysfs.c", "kobject_create_and_add", r'"pcache"'),
    ("module/sysfs.c", "sysfs_create_group", r"pcache_kobj"),
    ("module/sysfs.c", "kobject_create_and_add",
     r"pcache_features\[i\]\.sysfs_dir"),
]
seen = set()
for f in SRC:
    for m in re.finditer(CALLS, SRC[f]):
        fn = m.group(1)
        if fn.startswith("debugfs_") or fn.startswith("module_param"):
            continue
        args, _ = split_args(SRC[f], m.end() - 1)
        for k, (kf, kfn, karg) in enumerate(KNOWN_SITES):
            if f == kf and fn == kfn and re.fullmatch(karg, args[0]):
                seen.add(k)
                break
        else:
            line = SRC[f].count("\n", 0, m.start()) + 1
            die("%s:%d: %s(%s, ...) makes sysfs files doc-check does not "
                "know" % (f, line, fn, args[0]))
for k, site in enumerate(KNOWN_SITES):
    if k not in seen:
        die("%s: no %s(%s, ...) any more" % site)
if not re.search(r'kobject_create_and_add\(\s*"pcache"\s*,\s*mm_kobj\s*\)',
                 SRC["module/sysfs.c"]):
    die("the root is not /sys/kernel/mm/pcache")
m = re.findall(r'pcache_sysfs_dir_add\(\s*kobj\s*,\s*"(\w+)"',
               SRC["module/sysfs.c"])
if len(m) != 1:
    die("the stats directory's name")
STATS = m[0]

# Attribute variables -> file names.
ATTR = {}
for m in re.finditer(r"(\w+)\s*=\s*(?:\{[^;]*?)?\b__ATTR(_RW|_RO|_WO)?\("
                     r"\s*(\w+)", ALL):
    ATTR[m.group(1)] = m.group(3)
ARRAYS = {}
for m in re.finditer(r"struct\s+attribute\s*\*\s*(\w+)\s*\[\s*\]\s*=\s*"
                     r"\{(.*?)\}\s*;", ALL, re.S):
    ARRAYS[m.group(1)] = re.findall(r"&\s*(\w+)", m.group(2))
GROUPS, VISIBLE = {}, {}
for m in re.finditer(r"struct\s+attribute_group\s+(\w+)\s*=\s*\{(.*?)\}\s*;",
                     ALL, re.S):
    a = re.search(r"\.attrs\s*=\s*(\w+)", m.group(2))
    if not a:
        die("attribute group %s has no .attrs" % m.group(1))
    GROUPS[m.group(1)] = a.group(1)
    v = re.search(r"\.is_visible\s*=\s*(\w+)", m.group(2))
    if v:
        VISIBLE[m.group(1)] = v.group(1)
LISTS = {}
for m in re.finditer(r"\bATTRIBUTE_GROUPS\(\s*(\w+)\s*\)", ALL):
    GROUPS[m.group(1) + "_group"] = m.group(1) + "_attrs"
    LISTS[m.group(1) + "_groups"] = [m.group(1) + "_group"]
for m in re.finditer(r"struct\s+attribute_group\s*\*\s*(\w+)\s*\[\s*\]\s*="
                     r"\s*\{(.*?)\}\s*;", ALL, re.S):
    LISTS[m.group(1)] = re.findall(r"&\s*(\w+)", m.group(2))

# The one is_visible() rule: tmem's stats_visible() hides shared_* from a
# persistent front's stats/.  Anything else is news.
VIS_RULE = r'front_of\(kobj\)->persistent\s*&&\s*strstarts\(attr->name,\s*' \
           r'"(\w+)"\)'


def visible_filter(group, owner):
    fn = VISIBLE.get(group)
    if not fn:
        return lambda name: True
    body = re.search(r"\b" + fn + r"\([^)]*\)\s*\{(.*?)\n\}", ALL, re.S)
    rule = re.search(VIS_RULE, body.group(1)) if body else None
    if not rule or body.group(1).count("return") != 2:
        die("%s: is_visible %s() is not the one rule doc-check knows"
            % (group, fn))
    persistent = re.search(r"struct\s+pcache_tmem_front\s+" + owner +
                           r"\s*=\s*\{[^;]*\.persistent\s*=\s*true", ALL)
    prefix = rule.group(1)
    return lambda name: not (persistent and name.startswith(prefix))


def files_of(lst, owner):
    if lst not in LISTS:
        die("no attribute group list %s" % lst)
    names = []
    for g in LISTS[lst]:
        if g not in GROUPS or GROUPS[g] not in ARRAYS:
            die("attribute group %s: its attributes not found" % g)
        keep = visible_filter(g, owner)
        for var in ARRAYS[GROUPS[g]]:
            if var not in ATTR:
                die("attribute %s in %s: no __ATTR() name found" % (var, g))
            if keep(ATTR[var]):
                names.append(ATTR[var])
    return names


# The tree: the root's group, then every feature's files.
TREE = {"": set()}		# directory (no slashes at the ends) -> files
m = re.search(r"sysfs_create_group\(\s*pcache_kobj\s*,\s*&\s*(\w+)\s*\)",
              SRC["module/sysfs.c"])
LISTS["(root)"] = [m.group(1)]
TREE[""].update(files_of("(root)", ""))
FILES = {}
for m in re.finditer(r"struct\s+pcache_feature_files\s+(\w+)\s*=\s*\{(.*?)"
                     r"\}\s*;", ALL, re.S):
    body = m.group(2)
    sub = re.search(r'\.subdir\s*=\s*"(\w+)"', body)
    own = re.search(r"\.owner\s*=\s*&\s*(\w+)", body)
    grp = re.search(r"\.groups\s*=\s*(\w+)", body)
    stg = re.search(r"\.stat_groups\s*=\s*(\w+)", body)
    if not grp or not stg:
        die("feature files %s: no .groups or .stat_groups" % m.group(1))
    FILES[m.group(1)] = (sub and sub.group(1), own and own.group(1) or "",
                         grp.group(1), stg.group(1))
table = re.search(r"pcache_features\s*\[[^\]]*\]\s*=\s*\{", EXP["module/"
                                                               "core.c"])
if not table:
    die("no pcache_features[] in module/core.c")
entries, _ = split_args(EXP["module/core.c"], table.end() - 1)
entries = [e for e in entries if e]	# the comma after the last one
if not entries:
    die("pcache_features[] is empty")
for e in entries:
    d = re.search(r'\.sysfs_dir\s*=\s*"([\w/]+)"', e)
    f = re.search(r"\.files\s*=\s*&\s*(\w+)", e)
    if not d or not f or f.group(1) not in FILES:
        die("feature entry without a known sysfs_dir and files: %s"
            % " ".join(e.split())[:70])
    sub, owner, groups, stat_groups = FILES[f.group(1)]
    fdir = d.group(1) + ("/" + sub if sub else "")
    parts = fdir.split("/")
    for k in range(1, len(parts) + 1):
        TREE.setdefault("/".join(parts[:k]), set())
    TREE[fdir].update(files_of(groups, owner))
    TREE[fdir + "/" + STATS] = set(files_of(stat_groups, owner))

PATHS = set()
for d, names in TREE.items():
    PATHS.add(d + "/" if d else "")
    for n in names:
        PATHS.add((d + "/" if d else "") + n)

args = sys.argv[1:]
if "--list" in args:
    for p in sorted(PATHS):
        print(ROOT + "/" + p)
    sys.exit(0)


def brace(s):
    m = re.search(r"\{([^{}]*)\}", s)
    if not m:
        return [s]
    return [x for alt in m.group(1).split(",")
            for x in brace(s[:m.start()] + alt.strip() + s[m.end():])]


def rel(path):
    """A documented path relative to ROOT (directories end in /), or None."""
    if path != ROOT and not path.startswith(ROOT + "/"):
        return None
    return path[len(ROOT) + 1:]


def missing(where, path):
    failures.append("%s: %s/%s" % (where, ROOT, path))


# The ABI file: What: lines, and the counters in their stats/ entries.
ABI = os.environ["ABI"]
try:
    abi = open(ABI).read()
except OSError as e:
    die("%s: %s" % (ABI, e.strerror))
abi_paths, abi_desc = set(), {}
for entry in re.split(r"\n[ \t]*\n(?=What:)", abi):
    whats = re.findall(r"^What:\s*(\S+)", entry, re.M)
    desc = entry.split("Description:", 1)[-1]
    for w in whats:
        for p in brace(w):
            r = rel(p)
            if r is None:
                failures.append("ABI file: What: %s is not under %s"
                                % (p, ROOT))
                continue
            abi_paths.add(r)
            abi_desc[r] = desc
for p in sorted(PATHS):
    if p in abi_paths:
        continue
    d, _, name = p.rpartition("/")
    if d.endswith("/" + STATS) or d == STATS:
        if re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)",
                     abi_desc.get(d + "/", "")):
            continue
    missing("not in " + ABI, p)
for p in sorted(abi_paths - PATHS):
    missing("in " + ABI + " but not made by pcache", p)

# The guide: "Files in ``DIR``:" blocks of definition-list terms.
GUIDE = os.environ["GUIDE"]
try:
    guide = open(GUIDE).read().split("\n")
except OSError as e:
    die("%s: %s" % (GUIDE, e.strerror))
ADORN = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")
FILES_IN = re.compile(r"^Files in ``([^`]+)``:\s*$")
TERM = re.compile(r"^(?:``)?([A-Za-z0-9_]+)(?:``)?\s*$")
guide_files, guide_dirs, block = set(), set(), []
for i, line in enumerate(guide):
    for lit in re.findall(r"``(" + re.escape(ROOT) + r"[^`]*)``", line):
        for p in brace(lit):
            r = rel(p.rstrip("/"))
            if r is not None:
                guide_dirs.add(r)
    m = FILES_IN.match(line)
    if m or ADORN.match(line):
        block = []
        for p in brace(m.group(1)) if m else []:
            r = rel(p.rstrip("/"))
            if r is not None:
                block.append(r)
        continue
    m = TERM.match(line)
    if m and block and i + 1 < len(guide) and \
            re.match(r"^[ \t]+\S", guide[i + 1]):
        for d in block:
            guide_files.add((d + "/" if d else "") + m.group(1))
for d in sorted(TREE):
    if d not in guide_dirs:
        missing("directory not in " + GUIDE, d + "/" if d else "")
for p in sorted(PATHS):
    if not p.endswith("/") and p and p not in guide_files:
        missing("not in " + GUIDE, p)
for p in sorted(guide_files - PATHS):
    missing("in " + GUIDE + " but not made by pcache", p)

# Module parameters: terms of the guide's "Module parameters" section.
params = set()
for f in C_FILES:
    if "kunit" in f:
        continue
    params.update(re.findall(r"\bmodule_param\w*\(\s*(\w+)", SRC[f]))
section, level, documented = False, None, set()
for i, line in enumerate(guide):
    nxt = guide[i + 1] if i + 1 < len(guide) else ""
    if ADORN.match(nxt) and line.strip() and not ADORN.match(line):
        if line.strip() == "Module parameters":
            section, level = True, nxt[0]
            continue
        if section and nxt[0] == level:
            section = False
    m = TERM.match(line)
    if section and m and re.match(r"^[ \t]+\S", nxt):
        documented.add(m.group(1))
if not params:
    die("no module_param() in module/ (hooks_enabled is one)")
for p in sorted(params - documented):
    failures.append("module parameter not in %s's \"Module parameters\": %s"
                    % (GUIDE, p))
for p in sorted(documented - params):
    failures.append("in %s's \"Module parameters\" but not a parameter: %s"
                    % (GUIDE, p))

# The tree of a running module, if given.
if "--tree" in args:
    k = args.index("--tree")
    if k + 1 >= len(args):
        die("--tree needs a file")
    tree = set()
    for line in open(args[k + 1]):
        line = line.strip()
        if not line:
            continue
        r = rel(line.rstrip("/"))
        if r is None:
            die("--tree: %s is not under %s" % (line, ROOT))
        tree.add(r + "/" if line.endswith("/") and r else r)
    for p in sorted(PATHS - tree):
        missing("derived from the source, not in " + args[k + 1], p)
    for p in sorted(tree - PATHS):
        missing("in " + args[k + 1] + ", not derived from the source", p)

# The guide renders, with no rst error or warning.
try:
    import io
    import docutils.core
    import docutils.utils
    try:
        docutils.core.publish_string(
            "\n".join(guide), source_path=GUIDE, writer_name="null",
            settings_overrides={"halt_level": 2, "report_level": 2,
                                "warning_stream": io.StringIO()})
        render = "renders with docutils, no warning"
    except docutils.utils.SystemMessage as e:
        failures.append("%s does not render cleanly: %s" % (GUIDE, e))
        render = ""
except ImportError:
    render = "NOT rendered: docutils missing (Debian: python3-docutils)"

nfiles = len([p for p in PATHS if p and not p.endswith("/")])
if failures:
    for f in failures:
        print("doc-check: " + f)
    print("doc-check: %d problem(s); %d files in %d directories derived "
          "from module/" % (len(failures), nfiles, len(TREE)))
    sys.exit(1)
print("doc-check: ok: %d files in %d directories under %s, all in %s and "
      "%s; %d module parameter(s) in its \"Module parameters\"; %s"
      % (nfiles, len(TREE), ROOT, ABI, GUIDE, len(params), render))
PYTHON
