#!/usr/bin/env bash
# The resolve step of action.yml: choose the image that runs Echo Notify, pre-pull it, check that
# it holds exactly this checkout's code, and write the Docker action that the next step uses.
# It runs on the runner before anything is installed: bash, coreutils and the docker CLI only.
#
#   bash resolve-image.sh               resolve (environment below)
#   bash resolve-image.sh digest DIR    print the source digest of the action's files in DIR
#
# Environment: GITHUB_ACTION_PATH (this checkout), GITHUB_WORKSPACE, GENERATED (the generated
# action's folder, relative to the workspace), ACTION_REPOSITORY and ACTION_REF (the runner's
# github.action_repository / github.action_ref, passed through the step's env:), MIRROR (the
# `image` input). The image: the digest committed in image-ref.txt (a release commit, written by
# the release workflow), pulled by digest; only where none is committed (a branch, a fork), the
# tag for the ref. MIRROR replaces their repository. docs/image-and-pinning.md.
# The watchdog action (watchdog/action.yml) runs the same image: it sets ACTION_ROOT (the
# repository's root, its GITHUB_ACTION_PATH/..), SPEC (its own action.yml, whose inputs and
# outputs the generated action declares) and ARGS (`watchdog`, the program's argument).
set -euo pipefail

LABEL=dev.echo-notify.source-digest
REGISTRY=ghcr.io
PULL_TIMEOUT=${ECHO_NOTIFY_PULL_TIMEOUT:-60} # seconds per try (tests shorten it)
BUILD_COST="Building the image from the Dockerfile instead (about 30 s)."

source_files() { # DIR: the Dockerfile and what .dockerignore lets into the build, sorted
  local dir=$1 line file
  local -A keep=()
  shopt -s nullglob
  while IFS= read -r line; do # `*`, then `!pattern` lines to let in, patterns to keep out
    case $line in
    '' | '#'* | '*') ;;
    '!'*) for file in "$dir"/${line#!}; do keep[${file#"$dir"/}]=1; done ;;
    *) for file in "$dir"/$line; do unset "keep[${file#"$dir"/}]"; done ;;
    esac
  done <"$dir/.dockerignore"
  printf '%s\n' Dockerfile "${!keep[@]}" | LC_ALL=C sort
}

digest() { # DIR: sha256 over the sorted `sha256sum` lines of those files
  (cd "$1" && source_files . | xargs -d '\n' sha256sum --) | sha256sum | {
    read -r sum _
    echo "sha256:$sum"
  }
}

clean() { # TEXT: its first line, printable ASCII only, cut short, no legacy `##[` command
  local text
  text=$(printf '%s\n' "$1" | head -n 1 | tr -cd '[:print:]' | cut -c 1-200)
  printf '%s' "${text//'##['/'# #['}"
}

annotate() { # LEVEL MESSAGE: one workflow command line, data escaped as the toolkit does
  local message=$2
  message=${message//'%'/%25}
  message=${message//$'\r'/%0D}
  message=${message//$'\n'/%0A}
  printf '::%s title=Echo Notify image::%s\n' "$1" "$message"
}

ours() { # DIR REPO REF: is DIR the runner's (…/owner/repo/ref) or act's (…/owner-repo@ref) checkout?
  # act checks a sub-folder action (owner/repo/watchdog@ref) out at …/owner-repo-watchdog@ref and
  # runs it from its watchdog/ folder, so the root is …/owner-repo-watchdog@ref (SUBDIR=watchdog).
  local dir=${1,,} repo=${2,,} ref=${3,,} act_repo=${2//\//-}${SUBDIR:+-$SUBDIR}
  dir=${dir%/}
  [[ $dir == */"$repo/$ref" || $dir == */"${act_repo,,}@${ref//\//-}" ]]
}

try() { # IMAGE WANT: pull and check; sets `use` (a digest reference), or `why` and `why_level`
  local image=$1 want=$2 err rc label attempt
  use='' why='' why_level=warning
  for attempt in 1 2; do # one retry, and none when the image is simply not there
    err=$(timeout "$PULL_TIMEOUT" docker pull --quiet "$image" 2>&1 >/dev/null) && rc=0 || rc=$?
    [ "$rc" != 0 ] || break
    if [ "$rc" = 124 ]; then
      why="the registry did not answer within $PULL_TIMEOUT s"
    elif [[ ${err,,} =~ manifest\ unknown|not\ found|denied|unauthorized ]]; then
      why="not published (or not public): $(clean "$err")" why_level=notice
      return 1
    else
      why="pull failed: $(clean "$err")"
    fi
    [ "$attempt" = 1 ] || {
      why+=" (tried twice)"
      return 1
    }
  done
  label=$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$image" 2>/dev/null) || label=''
  if [ "$label" != "$want" ]; then
    if [[ $label =~ ^sha256:[0-9a-f]{64}$ ]]; then
      why="it was built from other code (source digest $label, this checkout $want): a moved tag?"
    else
      why="it has no valid $LABEL label (${#label} characters), so its code cannot be checked"
    fi
    return 1
  fi
  use=$image
  [[ $image != *@sha256:* ]] || return 0
  while IFS= read -r label; do # run the digest that was checked, even if the tag moves meanwhile
    [[ $label != "${image%:*}@sha256:"* ]] || use=$label
  done < <(docker image inspect --format '{{ range .RepoDigests }}{{ println . }}{{ end }}' "$image")
}

block() { # KEY FILE: the top-level block `KEY:` of a YAML file, as written
  awk -v key="$1:" '/^[^ #]/ { on = index($0, key) == 1 } on' "$2"
}

joined() { # ITEM...: the items separated by "; "
  local text
  printf -v text '%s; ' "$@"
  printf '%s' "${text%; }"
}

write_action() { # ACTION OUT IMAGE: the Docker action, its inputs and outputs read from SPEC
  local action=$1 out=$2 image=$3 spec=${SPEC:-$1/action.yml}
  rm -rf "$out"
  mkdir -p "$out"
  {
    echo "# Written by Echo Notify's resolve step for this run (resolve-image.sh); removed after it."
    echo "name: Echo Notify (container)"
    echo "description: Runs the Echo Notify image chosen by the resolve step."
    block inputs "$spec"
    block outputs "$spec" | grep -v '^ *value:'
    echo "runs:"
    echo "  using: docker"
    echo "  image: '$image'"
    [ -z "${ARGS:-}" ] || echo "  args: ['$ARGS']"
  } >"$out/action.yml"
  if [ "$image" = Dockerfile ]; then # the build context: the files the digest covers
    { source_files "$action" && echo .dockerignore; } | tar -C "$action" -cf - -T - | tar -C "$out" -xf -
    # The build is labelled with this code's digest (no runner passes build args) …
    sed -i "s/^ARG SOURCE_DIGEST=\"\"\$/ARG SOURCE_DIGEST=\"$4\"/" "$out/Dockerfile"
    ! under_act || forget_act_build "$4"
  fi
}

forget_act_build() { # WANT: act names its build by the folder alone (pkg/runner/action.go,
  # execAsDocker: act-<path>-dockeraction:latest) and keeps it with --rebuild=false: drop a build
  # of other code, so act builds this checkout's
  local name label
  name=${GENERATED//[^a-zA-Z0-9]/-}-dockeraction:latest
  while [[ $name == -* ]]; do name=${name#-}; done
  name=act-${name,,}
  label=$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$name" 2>/dev/null) || return 0
  [ "$label" = "$1" ] || docker image rm --force "$name" >/dev/null 2>&1 || true
}

under_act() { # ACT=true, in any case, as the program reads it (config.github_context)
  local act=${ACT:-}
  [ "${act,,}" = true ]
}

act_host_mode() { # act with `-P …=-self-hosted`: its layout, pkg/runner/run_context.go
  # (startHostEnvironment: RUNNER_TEMP is <cache>/<random>/tmp, RUNNER_TOOL_CACHE <cache>/tool_cache)
  under_act && [ -n "${RUNNER_TOOL_CACHE:-}" ] &&
    [[ ${RUNNER_TEMP:-} == "${RUNNER_TOOL_CACHE%/tool_cache}"/*/tmp ]]
}

disabled() { # `enabled: false` (any case, as the program reads it): run no image at all
  local value=${ENABLED:-true}
  value=${value#"${value%%[![:space:]]*}"}
  value=${value%"${value##*[![:space:]]}"}
  [[ ${value,,} =~ ^(false|no|0)$ ]]
}

resolve() {
  local action out=${GITHUB_WORKSPACE:?}/${GENERATED:?}
  if disabled; then # the same notice and outputs as the program's; action.yml skips the next step
    echo "::notice title=Echo Notify::Skipped: \`enabled\` is false."
    printf '%s\n' skip=true message-id= delivered=false report= severity= run-url= attempts=0 \
      posted=false reason= history-artifact= >>"${GITHUB_OUTPUT:-/dev/stdout}"
    return
  fi
  if act_host_mode; then
    annotate error "act's host mode (-P ubuntu-latest=-self-hosted) cannot run a Docker action inside a composite action (act looks for a job container that this mode does not have). Run the job in a container: -P ubuntu-latest=IMAGE, an image with bash and the docker CLI (README, Local runs)."
    exit 1
  fi
  action=$(cd "${ACTION_ROOT:-${GITHUB_ACTION_PATH:?}}" && pwd)
  local repo=${ACTION_REPOSITORY:-} ref=${ACTION_REF:-} mirror=${MIRROR:-} pinned=''
  local want image use why why_level level=notice start elapsed
  local -a candidates=() reasons=()
  mirror=${mirror#"${mirror%%[![:space:]]*}"}
  mirror=${mirror%"${mirror##*[![:space:]]}"}
  if [[ -n $mirror && ! $mirror =~ ^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$ ]]; then
    reasons+=("the image input is not an image name (the next step names the error)") mirror=''
  fi # (config.image checks the same pattern: its error comes with the summary and the outputs)
  want=$(digest "$action")
  if [ -f "$action/image-ref.txt" ]; then # a release commit: the digest committed with the code
    pinned=$(head -c 300 "$action/image-ref.txt" | tr -d '[:space:]') # is pulled, never a tag
    if [[ $pinned =~ ^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$ ]]; then
      [ -z "$mirror" ] || pinned=$mirror@${pinned#*@}
      candidates+=("$pinned")
    else
      reasons+=("image-ref.txt holds no image@sha256 reference") level=warning
    fi
  elif [ -z "$repo" ] || [ -z "$ref" ]; then # a branch or a fork: the tag for the ref
    reasons+=("the runner gave no action ref (a local action, or one run by another action)")
  elif ! ours "$action" "$repo" "$ref"; then
    reasons+=("the action ref names another action ($(clean "$repo@$ref"); we run inside it)")
  elif [[ ! ${ref//\//-} =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
    reasons+=("the ref $(clean "$ref") cannot be an image tag")
  else
    candidates+=("${mirror:-$REGISTRY/${repo,,}}:${ref//\//-}")
  fi
  if [ ${#candidates[@]} -gt 0 ] && ! command -v docker >/dev/null; then
    reasons+=("no docker command on this runner") candidates=()
  fi
  for image in "${candidates[@]}"; do
    start=$EPOCHREALTIME
    if try "$image" "$want"; then
      elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
      write_action "$action" "$out" "docker://$use" "$want"
      echo "Echo Notify image: $use (pulled in $elapsed s; built from this checkout's code, $want)${reasons[0]:+; passed over: $(joined "${reasons[@]}")}"
      return
    fi
    reasons+=("$image: $why")
    [[ $why_level = notice && $image != *@sha256:* ]] || level=warning # a release's own image
  done
  write_action "$action" "$out" Dockerfile "$want"
  annotate "$level" "No prebuilt image for this run: $(joined "${reasons[@]}"). $BUILD_COST"
}

case ${1:-} in
'') resolve ;;
digest) digest "${2:?usage: resolve-image.sh digest DIR}" ;;
*)
  echo "usage: resolve-image.sh [digest DIR]" >&2
  exit 2
  ;;
esac
