#!/usr/bin/env bash
# Run the behaviour suite against each minor release of qiskit-ibm-runtime (newest patch of each),
# one virtual environment per version, and print/write a Markdown matrix.
#
#   compat/run.sh                 every minor from 0.40 to the newest on the index
#   compat/run.sh 0.49 0.50       the newest patch of those minors
#   compat/run.sh 0.46.0          an exact release
#   compat/run.sh --fresh 0.45    rebuild the environment(s) first
#   compat/run.sh --ref HEAD      test a committed revision (exported to the cache), not the
#                                 working tree, e.g. while others are editing it
#   compat/run.sh --src DIR       test another checkout of the project (e.g. a patched copy)
#
# Options: --fresh, --ref REV, --src DIR, --cache DIR (default: .compat/ in the repo; or
#          $QSESSION_COMPAT_CACHE), --out FILE (default: compat/matrix.md), --min 0.40, -h/--help.
# Environment: PYTHON (default python3), TEST_TIMEOUT seconds per suite run (default 1800).
# Not for CI: CI runs the default client only (.ci/run). Safe to re-run; one run at a time.
set -uo pipefail
# The whole script is one brace group, so bash parses it before running it: editing this file
# while a run is under way does not change that run.
{

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
CACHE="${QSESSION_COMPAT_CACHE:-$ROOT/.compat}"
OUT="$ROOT/compat/matrix.md"
MIN="0.40"
FRESH=0
REF=""
SRC_ARG=""
TEST_TIMEOUT="${TEST_TIMEOUT:-1800}"
REQUESTED=()

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; }

while (($#)); do
    case "$1" in
        --fresh) FRESH=1 ;;
        --ref) REF="$2"; shift ;;
        --ref=*) REF="${1#*=}" ;;
        --src) SRC_ARG="$2"; shift ;;
        --src=*) SRC_ARG="${1#*=}" ;;
        --cache) CACHE="$2"; shift ;;
        --cache=*) CACHE="${1#*=}" ;;
        --out) OUT="$2"; shift ;;
        --out=*) OUT="${1#*=}" ;;
        --min) MIN="$2"; shift ;;
        --min=*) MIN="${1#*=}" ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
        *) REQUESTED+=("$1") ;;
    esac
    shift
done

mkdir -p "$CACHE/logs"
CACHE="$(cd "$CACHE" && pwd)"

# One run at a time per cache (venvs are shared state).
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
    echo "another compat/run.sh is using $CACHE; wait for it to finish" >&2
    exit 2
fi

log() { printf '[compat %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- which project tree ---------------------------------------------------------------------
# SRC is installed (editable, with its test extra) and its tests/ run from inside it, so its
# pytest_qsession/ is the code under test.
SRC="$ROOT"
if [[ -n "$SRC_ARG" && -n "$REF" ]]; then
    echo "--src and --ref exclude each other" >&2; exit 2
fi
if [[ -n "$SRC_ARG" ]]; then
    [[ -f "$SRC_ARG/pyproject.toml" ]] || { echo "no pyproject.toml in $SRC_ARG" >&2; exit 2; }
    SRC="$(cd "$SRC_ARG" && pwd)"
    log "testing the project tree $SRC"
elif [[ -n "$REF" ]]; then
    sha="$(git -C "$ROOT" rev-parse --verify --short "$REF^{commit}")" || { echo "not a revision: $REF" >&2; exit 2; }
    SRC="$CACHE/src-$sha"
    if [[ ! -f "$SRC/pyproject.toml" ]]; then
        rm -rf "$SRC" && mkdir -p "$SRC" &&
            git -C "$ROOT" archive "$sha" | tar -x -C "$SRC" || { echo "could not export $REF" >&2; exit 1; }
    fi
    log "testing revision $REF ($sha), exported to $SRC"
fi

# ---- which releases -------------------------------------------------------------------------
AVAILABLE="$("$PYTHON" -m pip index versions qiskit-ibm-runtime 2>/dev/null \
    | sed -n 's/^Available versions: //p' | tr ',' '\n' | tr -d ' ' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$')"
if [[ -z "$AVAILABLE" ]]; then
    echo "could not list qiskit-ibm-runtime releases ($PYTHON -m pip index versions qiskit-ibm-runtime)" >&2
    exit 1
fi

newest_patch() {  # newest X.Y.* release on the index, or nothing
    grep -E "^${1//./\\.}\.[0-9]+$" <<<"$AVAILABLE" | sort -V | tail -n1
}

VERSIONS=()
if ((${#REQUESTED[@]} == 0)); then
    min_major="${MIN%%.*}"; min_minor="${MIN#*.}"; min_minor="${min_minor%%.*}"
    while read -r minor; do
        major="${minor%%.*}"; mnr="${minor#*.}"
        if ((major > min_major || (major == min_major && mnr >= min_minor))); then
            VERSIONS+=("$(newest_patch "$minor")")
        fi
    done < <(sed -E 's/^([0-9]+\.[0-9]+)\..*/\1/' <<<"$AVAILABLE" | sort -uV)
else
    for req in "${REQUESTED[@]}"; do
        if [[ "$req" =~ ^[0-9]+\.[0-9]+$ ]]; then
            v="$(newest_patch "$req")"
            if [[ -z "$v" ]]; then echo "no qiskit-ibm-runtime $req.* release on the index" >&2; exit 2; fi
            VERSIONS+=("$v")
        elif [[ "$req" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
            grep -qxF "$req" <<<"$AVAILABLE" || { echo "qiskit-ibm-runtime $req is not on the index" >&2; exit 2; }
            VERSIONS+=("$req")
        else
            echo "not a version: $req (expected X.Y or X.Y.Z)" >&2; exit 2
        fi
    done
fi
# Logs per tree tested, so a run of a patched copy does not overwrite the working tree's.
if [[ -n "$SRC_ARG" ]]; then LOGS="$CACHE/logs/src-$(basename "$SRC")"
elif [[ -n "$REF" ]]; then LOGS="$CACHE/logs/ref-$sha"
else LOGS="$CACHE/logs/worktree"; fi
mkdir -p "$LOGS"

log "versions: ${VERSIONS[*]}"
log "cache: $CACHE"

# ---- per version ----------------------------------------------------------------------------
ROWS=()
md_cell() { local s="${1//|/\\|}"; printf '%s' "${s//$'\n'/ }"; }

dist_version() { "$1/bin/python" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$2" 2>/dev/null || echo "?"; }

START_ALL=$SECONDS
for v in "${VERSIONS[@]}"; do
    venv="$CACHE/venv-$v"
    install_log="$LOGS/$v.install.log"
    test_log="$LOGS/$v.pytest.log"
    qiskit="-"; aer="-"

    if ((FRESH)) || [[ ! -f "$venv/.compat-installed" ]]; then
        log "$v: building $venv"
        rm -rf "$venv"
        {
            "$PYTHON" -m venv "$venv" &&
            "$venv/bin/python" -m pip install --quiet --upgrade pip &&
            "$venv/bin/python" -m pip install -e "$SRC[test]" "qiskit-ibm-runtime==$v"
        } >"$install_log" 2>&1
        rc=$?
        if ((rc != 0)) || [[ "$(dist_version "$venv" qiskit-ibm-runtime)" != "$v" ]]; then
            reason="$(grep -m1 -E '^ERROR:' "$install_log" || true)"
            [[ -n "$reason" ]] || reason="$(grep -v '^\s*$' "$install_log" | tail -n1)"
            reason="${reason#ERROR: }"
            log "$v: install failed: $reason (see $install_log)"
            ROWS+=("| $v | - | - | install failed | $(md_cell "$reason") |")
            continue
        fi
        echo "$SRC" >"$venv/.compat-installed"
    else
        log "$v: reusing $venv"
        # The project is installed editable, so the tree's code is what runs; reinstall it only
        # if the venv was made for another tree or pyproject.toml changed since.
        if [[ "$(cat "$venv/.compat-installed")" != "$SRC" || "$SRC/pyproject.toml" -nt "$venv/.compat-installed" ]]; then
            log "$v: (re)installing the project from $SRC"
            if ! "$venv/bin/python" -m pip install -e "$SRC[test]" "qiskit-ibm-runtime==$v" >>"$install_log" 2>&1; then
                reason="$(grep -m1 -E '^ERROR:' "$install_log" || tail -n1 "$install_log")"
                reason="${reason#ERROR: }"
                log "$v: install failed: $reason (see $install_log)"
                ROWS+=("| $v | - | - | install failed | $(md_cell "$reason") |")
                rm -f "$venv/.compat-installed"
                continue
            fi
            echo "$SRC" >"$venv/.compat-installed"
        fi
    fi
    qiskit="$(dist_version "$venv" qiskit)"
    aer="$(dist_version "$venv" qiskit-aer)"

    log "$v: running the suite (qiskit $qiskit, qiskit-aer $aer)"
    t0=$SECONDS
    (
        cd "$SRC" &&
        env -u PYTEST_ADDOPTS -u PYTEST_PLUGINS \
            timeout "$TEST_TIMEOUT" "$venv/bin/python" -m pytest -q -p no:randomly -p no:cacheprovider \
            --no-header -rfE --continue-on-collection-errors tests
    ) >"$test_log" 2>&1
    rc=$?
    summary="$(grep -E '(passed|failed|error|errors|skipped|no tests ran)( |,|$)' "$test_log" | grep -E ' in [0-9.]+s' | tail -n1 | sed -E 's/^=+ //; s/ =+$//')"
    case "$rc" in
        0) result="pass" ;;
        124) result="FAIL (timeout)"; summary="${summary:-timed out after ${TEST_TIMEOUT}s}" ;;
        *) result="FAIL" ;;
    esac
    if [[ -z "$summary" ]]; then  # pytest stopped before running anything (e.g. plugin import)
        summary="$(grep -m1 -E '^E  ' "$test_log" | sed -E 's/^E +//')"
        [[ -n "$summary" ]] || summary="$(grep -v '^\s*$' "$test_log" | tail -n1)"
        summary="no tests ran: $summary"
    fi
    log "$v: $result — $summary ($((SECONDS - t0))s; log $test_log)"
    ROWS+=("| $v | $qiskit | $aer | $result | $(md_cell "$summary") |")
done

# ---- report ---------------------------------------------------------------------------------
if [[ -n "$SRC_ARG" ]]; then
    commit="(tree $SRC)"; dirty=""
elif [[ -n "$REF" ]]; then
    commit="$sha"; dirty=""
else
    commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    dirty="$(git -C "$ROOT" status --porcelain -- pytest_qsession tests pyproject.toml 2>/dev/null | head -c1)"
fi
TABLE="$(
    echo "| qiskit-ibm-runtime | qiskit | qiskit-aer | result | summary |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
)"
{
    echo "# qiskit-ibm-runtime compatibility"
    echo
    echo "Made by \`compat/run.sh${REF:+ --ref $REF}${SRC_ARG:+ --src $SRC_ARG}${REQUESTED[*]:+ ${REQUESTED[*]}}\` on $(date -u +%Y-%m-%d) at commit $commit${dirty:+ (with uncommitted changes)},"
    echo "$("$PYTHON" --version 2>&1), in $((SECONDS - START_ALL)) s. Logs: \`${LOGS#"$ROOT"/}/\`."
    echo
    echo "$TABLE"
} >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"

echo
echo "$TABLE"
log "wrote $OUT in $((SECONDS - START_ALL))s"
[[ "${#ROWS[@]}" -gt 0 ]] && ! printf '%s\n' "${ROWS[@]}" | grep -qvE '\| pass \|' && exit 0
exit 1
}
