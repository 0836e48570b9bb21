"""Tansu-SQLite read reproduction: produce N records (H headers each) over K keys to a 6-partition
topic with an idempotent producer, list the watermarks, then read every partition from offset 0 and
print how many records came back and when.

    python3 -m venv /tmp/ck && /tmp/ck/bin/pip install confluent-kafka
    mkdir -p /tmp/t && (cd /tmp/t && "$OLDPWD"/.opsline/bin/tansu-libsql broker --storage-engine sqlite://tansu.db \
        --listener-url tcp://127.0.0.1:19481 --advertised-listener-url tcp://127.0.0.1:19481) &
    /tmp/ck/bin/python bench/tansu-sqlite/headers_read.py --n 20000 --headers 3 --idle 60
    # without the header index: 0 records; with it (sqlite3 tansu.db "create index if not exists
    # opsline_header_topition_offset on header (topition, offset_id)"): all 20,000 in about 1 s
"""
import argparse, json, sys, time, uuid
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

p = argparse.ArgumentParser()
p.add_argument("--bootstrap", default="127.0.0.1:19481")
p.add_argument("--n", type=int, default=5000)
p.add_argument("--keys", type=int, default=4)
p.add_argument("--headers", type=int, default=3)
p.add_argument("--value-bytes", type=int, default=300)
p.add_argument("--partitions", type=int, default=6)
p.add_argument("--idle", type=float, default=20.0)
p.add_argument("--debug", default="")
p.add_argument("--topic", default="")
p.add_argument("--no-produce", action="store_true")
a = p.parse_args()
topic = a.topic or f"repro-{uuid.uuid4().hex[:8]}"
boot = {"bootstrap.servers": a.bootstrap}
if not a.no_produce:
    admin = AdminClient(boot)
    for f in admin.create_topics([NewTopic(topic, a.partitions, 1)]).values():
        f.result()
    prod = Producer({**boot, "enable.idempotence": True, "acks": "all", "linger.ms": 5})
    t0 = time.time()
    for i in range(a.n):
        key = f"svc-{i % a.keys}".encode()
        headers = [(f"h{j}", f"value-{j}-{i}".encode()) for j in range(a.headers)]
        value = json.dumps({"i": i, "pad": "x" * a.value_bytes}).encode()
        while True:
            try:
                prod.produce(topic, value=value, key=key, headers=headers or None)
                break
            except BufferError:
                prod.poll(0.1)
        prod.poll(0)
    left = prod.flush(120)
    print(f"produced {a.n} to {topic} in {time.time()-t0:.1f}s, unflushed {left}", flush=True)

cfg = {**boot, "group.id": "repro-reader", "enable.auto.commit": False, "auto.offset.reset": "earliest",
       "enable.partition.eof": False}
if a.debug:
    cfg["debug"] = a.debug
c = Consumer(cfg)
ends = {}
for part in range(a.partitions):
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, part), timeout=10)
    ends[part] = (lo, hi)
print("watermarks (low, high):", ends, "sum high-low:", sum(h - l for l, h in ends.values()), flush=True)
c.assign([TopicPartition(topic, part, 0) for part in range(a.partitions)])
t0 = time.time()
got = {}
first = None
last = time.time()
while time.time() - last < a.idle:
    m = c.poll(1.0)
    if m is None:
        continue
    if m.error():
        print("error", m.error(), flush=True)
        continue
    if first is None:
        first = time.time() - t0
    got[m.partition()] = got.get(m.partition(), 0) + 1
    last = time.time()
print(f"read {sum(got.values())} records per partition {got}; first after {first}s, last after {last - t0:.1f}s", flush=True)
c.close()
