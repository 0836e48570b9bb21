#!/usr/bin/env python3
"""Generates kafka/users.yaml: one Strimzi KafkaUser per Opsline service, authenticated with
SCRAM-SHA-512 on the `tls` listener, whose ACLs allow exactly the topics of that service's
topic plan (services/<service>/src/app.rs: plan.consume / follow / read / produce /
dead_letters_of) and nothing else. Topic names come from crates/opsline-events/src/topics.rs.

  consume   -> Read, Describe on the topic; Write on its dead-letter twin (if it has one);
               Read on the service's consumer groups (prefix `opsline-<service>`)
  follow    -> Read, Describe (group-less readers: Read on group opsline-groupless-reader,
  read         librdkafka needs a group.id for a manual assignment; it is never joined)
  produce   -> Write, Describe
  dead_letters_of -> Write on the dead-letter twin
Every topic the service touches also gets Create: each service creates its plan's topics at
start-up, and Kafka answers "already exists" (not "not authorized") only to a user allowed to
create them. The names are literal: no service can create or read another service's topics.

Usage (from the repository root):
    python3 deploy/k8s/kafka/gen-users.py          # rewrite users.yaml
    python3 deploy/k8s/kafka/gen-users.py --check  # exit 1 if users.yaml is stale
"""
import importlib.util
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
OUT = HERE / "users.yaml"
SERVICES = ["gateway", "logintel", "triage", "selfservice", "postmortem", "console", "helpdesk", "notify"]
GROUPLESS_READER = "opsline-groupless-reader"  # opsline_kafka::config::READER_GROUP_ID
CLUSTER = "opsline-kafka"

_spec = importlib.util.spec_from_file_location("gen_topics", HERE / "gen-topics.py")
gen_topics = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_topics)


def topic_specs():
    text = gen_topics.TOPICS_RS.read_text()
    block = re.compile(r"pub const ([A-Z_]+): TopicSpec = TopicSpec \{(.*?)\n\};", re.S)
    specs = {}
    for const, body in block.findall(text):
        base = re.search(r'\bbase: "([^"]+)",', body).group(1)
        dlq = re.search(r"\bhas_dead_letter: (true|false),", body).group(1) == "true"
        specs[const] = (base, dlq)
    return specs


def plan_calls(service):
    """(method, [TOPIC_CONST]) of every plan.<method>(..., &[&topics::X, ...]) in app.rs."""
    text = (ROOT / f"services/{service}/src/app.rs").read_text()
    calls = []
    pattern = r"plan\.(consume|follow|read|produce|dead_letters_of)\((.*?)\)\s*[;.\n]"
    for method, args in re.findall(pattern, text, re.S):
        calls.append((method, re.findall(r"topics::([A-Z_]+)", args)))
    return calls


def acls(service):
    """{topic name: set of operations}, and the consumer-group resources, of one service."""
    specs = topic_specs()
    topics = {}
    groups = set()

    def grant(name, *operations):
        topics.setdefault(name, set()).update(operations + ("Create",))

    for method, consts in plan_calls(service):
        for const in consts:
            base, has_dlq = specs[const]
            if method == "consume":
                grant(base, "Read", "Describe")
                if has_dlq:
                    grant(base + ".dlq", "Write", "Describe")
                groups.add(("prefix", f"opsline-{service}"))
            elif method in ("follow", "read"):
                grant(base, "Read", "Describe")
                groups.add(("literal", GROUPLESS_READER))
            elif method == "produce":
                grant(base, "Write", "Describe")
            elif method == "dead_letters_of":
                grant(base + ".dlq", "Write", "Describe")
    return topics, groups


ORDER = ["Read", "Write", "Describe", "Create"]


def user_doc(service):
    topics, groups = acls(service)
    lines = [
        f"# opsline-{service}: SCRAM-SHA-512 on the tls listener (9093). Strimzi writes its password",
        f"# to Secret kafka-user-opsline-{service} (key `password`), mounted by services/{service}.yaml.",
        "apiVersion: kafka.strimzi.io/v1beta2",
        "kind: KafkaUser",
        "metadata:",
        f"  name: opsline-{service}",
        "  labels:",
        f"    strimzi.io/cluster: {CLUSTER}",
        "    app.kubernetes.io/part-of: opsline",
        "spec:",
        "  authentication:",
        "    type: scram-sha-512",
        "  authorization:",
        "    type: simple",
        "    acls:",
    ]
    for name in sorted(topics):
        operations = ", ".join(op for op in ORDER if op in topics[name])
        lines += [
            "      - resource:",
            "          type: topic",
            f"          name: {name}",
            "          patternType: literal",
            f"        operations: [{operations}]",
        ]
    for pattern, name in sorted(groups):
        lines += [
            "      - resource:",
            "          type: group",
            f"          name: {name}",
            f"          patternType: {pattern}",
            "        operations: [Read]",
        ]
    return "\n".join(lines) + "\n"


def render():
    header = (
        "# GENERATED by deploy/k8s/kafka/gen-users.py from services/*/src/app.rs (topic plans) and\n"
        "# crates/opsline-events/src/topics.rs. Do not edit by hand: change the plan, rerun the script.\n"
        "# Each service may read and write only its own topics (tests/tests/e2e/k8s_manifests.rs checks).\n"
    )
    return header + "---\n".join(user_doc(service) for service in SERVICES)


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is stale: run {pathlib.Path(__file__).name}", file=sys.stderr)
            return 1
        print(f"{OUT.name} is up to date ({text.count('kind: KafkaUser')} users)")
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT} ({text.count('kind: KafkaUser')} users)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
