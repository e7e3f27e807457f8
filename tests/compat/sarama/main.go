// Compatibility scenarios for Sarama (Go), built offline in GOPATH mode against
// Debian's golang-github-shopify-sarama-dev. Run with -version default or 2.1.0.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

var (
	bootstrap = []string{envOr("RUNNEL_BOOTSTRAP", "127.0.0.1:9092")}
	runID     = fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffff)
	version   = flag.String("version", "default", "config.Version: default or 2.1.0")
)

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func name(kind string) string { return fmt.Sprintf("compat-%s-%s", kind, runID) }

type skip string

func (s skip) Error() string { return string(s) }

// oldFormat: the default config.Version 0.8.2 speaks Produce v0 / Fetch v0 with
// message format v0, which Runnel converts to and from RecordBatch v2 (as Kafka
// 3.x does). That format has no headers and no timestamps, so those are not
// sent or checked with it.
const oldFormat = "config.Version 0.8.2: Produce v0 / Fetch v0, message format v0 (no headers, no timestamps)"

func newConfig() *sarama.Config {
	c := sarama.NewConfig()
	if *version == "2.1.0" {
		c.Version = sarama.V2_1_0_0
	}
	c.ClientID = "runnel-compat"
	c.Net.DialTimeout = 5 * time.Second
	c.Metadata.Retry.Backoff = 100 * time.Millisecond
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Producer.Retry.Max = 3
	c.Consumer.Return.Errors = true
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.CommitInterval = 100 * time.Millisecond
	c.Consumer.Group.Session.Timeout = 6 * time.Second
	c.Consumer.Group.Heartbeat.Interval = 300 * time.Millisecond
	c.Consumer.MaxWaitTime = 200 * time.Millisecond
	return c
}

type rec struct {
	partition int32
	offset    int64
	key       []byte
	value     []byte
	headers   map[string]string
	ts        time.Time
}

func sampleRecords(n int, partitions int32) []rec {
	now := time.Now().Truncate(time.Millisecond)
	out := make([]rec, n)
	for i := range out {
		out[i] = rec{partition: int32(i) % partitions, key: []byte(fmt.Sprintf("key-%d", i)),
			value: []byte(fmt.Sprintf("value-%d", i)), headers: map[string]string{"h1": fmt.Sprintf("hv-%d", i), "h2": ""},
			ts: now.Add(time.Duration(i-1000) * time.Millisecond)}
	}
	return out
}

func modern() bool { return *version == "2.1.0" }

func createTopic(topic string, partitions int32, configs map[string]*string) error {
	if !modern() {
		// No CreateTopics before 0.10.1: the topic is auto-created on first use with
		// num.partitions (3); scenarios use partition 0 where they want one.
		return nil
	}
	admin, err := sarama.NewClusterAdmin(bootstrap, newConfig())
	if err != nil {
		return err
	}
	defer admin.Close()
	return admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1, ConfigEntries: configs}, false)
}

func bytesOrNil(b []byte) sarama.Encoder {
	if b == nil {
		return nil
	}
	return sarama.ByteEncoder(b)
}

func produce(topic string, records []rec, tweak func(*sarama.Config)) error {
	cfg := newConfig()
	if tweak != nil {
		tweak(cfg)
	}
	p, err := sarama.NewSyncProducer(bootstrap, cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	var msgs []*sarama.ProducerMessage
	for _, r := range records {
		m := &sarama.ProducerMessage{Topic: topic, Partition: r.partition, Key: bytesOrNil(r.key), Value: bytesOrNil(r.value), Timestamp: r.ts}
		if !modern() {
			msgs = append(msgs, m) // message format v0 cannot carry headers; Sarama refuses them
			continue
		}
		keys := make([]string, 0, len(r.headers))
		for k := range r.headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(k), Value: []byte(r.headers[k])})
		}
		msgs = append(msgs, m)
	}
	return p.SendMessages(msgs)
}

func toRec(m *sarama.ConsumerMessage) rec {
	h := map[string]string{}
	for _, x := range m.Headers {
		h[string(x.Key)] = string(x.Value)
	}
	return rec{partition: m.Partition, offset: m.Offset, key: m.Key, value: m.Value, headers: h, ts: m.Timestamp}
}

// consumeFrom reads n records from the given partitions starting at offset.
func consumeFrom(topic string, partitions []int32, offset int64, n int) ([]rec, error) {
	c, err := sarama.NewConsumer(bootstrap, newConfig())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out := make(chan rec, n)
	errs := make(chan error, len(partitions))
	for _, p := range partitions {
		pc, err := c.ConsumePartition(topic, p, offset)
		if err != nil {
			return nil, err
		}
		defer pc.Close()
		go func() {
			for m := range pc.Messages() {
				out <- toRec(m)
			}
		}()
		go func() {
			for e := range pc.Errors() {
				errs <- e
			}
		}()
	}
	var got []rec
	deadline := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case r := <-out:
			got = append(got, r)
		case e := <-errs:
			return got, e
		case <-deadline:
			return got, fmt.Errorf("got %d of %d records", len(got), n)
		}
	}
	return got, nil
}

func check(expected, got []rec, withMeta bool) error {
	if len(got) != len(expected) {
		return fmt.Errorf("got %d records, expected %d", len(got), len(expected))
	}
	byPart := map[int32][]rec{}
	for _, r := range got {
		byPart[r.partition] = append(byPart[r.partition], r)
	}
	for p, recs := range byPart {
		var want []rec
		for _, e := range expected {
			if e.partition == p {
				want = append(want, e)
			}
		}
		if len(want) != len(recs) {
			return fmt.Errorf("partition %d: %d records, expected %d", p, len(recs), len(want))
		}
		for i, r := range recs {
			if i > 0 && r.offset <= recs[i-1].offset {
				return fmt.Errorf("partition %d out of order", p)
			}
			w := want[i]
			if !bytes.Equal(r.key, w.key) || !bytes.Equal(r.value, w.value) || (r.key == nil) != (w.key == nil) || (r.value == nil) != (w.value == nil) {
				return fmt.Errorf("record %q=%q, expected %q=%q", r.key, r.value, w.key, w.value)
			}
			if withMeta {
				if fmt.Sprint(r.headers) != fmt.Sprint(w.headers) {
					return fmt.Errorf("headers %v, expected %v", r.headers, w.headers)
				}
				if !r.ts.Equal(w.ts) {
					return fmt.Errorf("timestamp %v, expected %v", r.ts, w.ts)
				}
			}
		}
	}
	return nil
}

// groupHandler records assignments and consumed records of one group member.
type groupHandler struct {
	mu       sync.Mutex
	assigned int
	got      []rec
	limit    int
}

func (h *groupHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.assigned = 0
	for _, ps := range s.Claims() {
		h.assigned += len(ps)
	}
	return nil
}
func (h *groupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *groupHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.mu.Lock()
		if h.limit == 0 || len(h.got) < h.limit {
			h.got = append(h.got, toRec(m))
			s.MarkMessage(m, "")
		}
		h.mu.Unlock()
	}
	return nil
}
func (h *groupHandler) state() (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.assigned, len(h.got)
}

type member struct {
	group  sarama.ConsumerGroup
	h      *groupHandler
	cancel context.CancelFunc
	done   chan struct{}
}

func join(groupID, topic string, limit int) (*member, error) {
	g, err := sarama.NewConsumerGroup(bootstrap, groupID, newConfig())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{group: g, h: &groupHandler{limit: limit}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, m.h); err != nil {
				fmt.Fprintln(os.Stderr, "consume:", err)
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	return m, nil
}

func (m *member) close() {
	m.cancel()
	<-m.done
	m.group.Close()
}

func waitFor(what string, timeout time.Duration, pred func() bool) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if pred() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("timed out waiting for %s", what)
}

func groupConsume(groupID, topic string, n int) ([]rec, error) {
	m, err := join(groupID, topic, n)
	if err != nil {
		return nil, err
	}
	err = waitFor(fmt.Sprintf("%d records", n), 20*time.Second, func() bool { _, got := m.h.state(); return got >= n })
	time.Sleep(300 * time.Millisecond) // let the offset manager commit
	m.close()
	sort.SliceStable(m.h.got, func(i, j int) bool { return m.h.got[i].partition < m.h.got[j].partition })
	return m.h.got, err
}

func str(s string) *string { return &s }

// commitResumeOld is commit_resume without consumer groups (config.Version 0.8.2):
// Sarama's offset manager commits with OffsetCommit v1 (generation -1, no member)
// and resumes with OffsetFetch v1, its coordinator found with FindCoordinator v0.
func commitResumeOld() (string, error) {
	topic, group := name("cr"), name("cr-g")
	if err := produce(topic, sampleRecords(10, 1), nil); err != nil {
		return "", err
	}
	commit := func(offset int64) (int64, error) {
		c, err := sarama.NewClient(bootstrap, newConfig())
		if err != nil {
			return 0, err
		}
		defer c.Close()
		om, err := sarama.NewOffsetManagerFromClient(group, c)
		if err != nil {
			return 0, err
		}
		pom, err := om.ManagePartition(topic, 0)
		if err != nil {
			om.Close()
			return 0, err
		}
		next, _ := pom.NextOffset()
		if offset >= 0 {
			pom.MarkOffset(offset, "")
		}
		pom.Close()
		return next, om.Close() // Close flushes the commit
	}
	first, err := commit(-1)
	// Nothing committed yet: the offset manager answers Consumer.Offsets.Initial.
	if err != nil || first != sarama.OffsetOldest {
		return "", fmt.Errorf("first start at %d (expected OffsetOldest): %v", first, err)
	}
	got, err := consumeFrom(topic, []int32{0}, first, 4)
	if err != nil {
		return "", err
	}
	if _, err := commit(got[3].offset + 1); err != nil {
		return "", err
	}
	resume, err := commit(-1)
	if err != nil || resume != 4 {
		return "", fmt.Errorf("resumed at %d: %v", resume, err)
	}
	rest, err := consumeFrom(topic, []int32{0}, resume, 6)
	if err != nil || rest[0].offset != 4 || rest[5].offset != 9 {
		return "", fmt.Errorf("rest: %v", err)
	}
	return "offset manager: OffsetCommit v1 / OffsetFetch v1, no consumer group", nil
}

const needsModern = "needs config.Version >= 0.10.2 for this feature"

var scenarios = []struct {
	id string
	fn func() (string, error)
}{
	{"bootstrap", func() (string, error) {
		c, err := sarama.NewClient(bootstrap, newConfig())
		if err != nil {
			return "", err
		}
		defer c.Close()
		if len(c.Brokers()) != 1 {
			return "", fmt.Errorf("brokers: %d", len(c.Brokers()))
		}
		_, err = c.Topics()
		return "config.Version " + newConfig().Version.String(), err
	}},
	{"topic_admin", func() (string, error) {
		if !modern() {
			return "", skip(needsModern + " (CreateTopics)")
		}
		topic := name("admin")
		if err := createTopic(topic, 2, map[string]*string{"retention.ms": str("3600000"), "cleanup.policy": str("compact")}); err != nil {
			return "", err
		}
		admin, err := sarama.NewClusterAdmin(bootstrap, newConfig())
		if err != nil {
			return "", err
		}
		defer admin.Close()
		md, err := admin.DescribeTopics([]string{topic})
		if err != nil || len(md) != 1 || len(md[0].Partitions) != 2 {
			return "", fmt.Errorf("describe topics: %v %v", md, err)
		}
		entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
		if err != nil {
			return "", err
		}
		got := map[string]string{}
		for _, e := range entries {
			got[e.Name] = e.Value
		}
		if got["retention.ms"] != "3600000" || got["cleanup.policy"] != "compact" {
			return "", fmt.Errorf("configs retention.ms=%q cleanup.policy=%q", got["retention.ms"], got["cleanup.policy"])
		}
		if err := admin.DeleteTopic(topic); err != nil {
			return "", err
		}
		return "", waitFor("topic deletion", 10*time.Second, func() bool {
			topics, err := admin.ListTopics()
			_, present := topics[topic]
			return err == nil && !present
		})
	}},
	{"produce_consume", func() (string, error) {
		topic := name("pc")
		records := sampleRecords(30, 3)
		if err := createTopic(topic, 3, nil); err != nil {
			return "", err
		}
		if err := produce(topic, records, nil); err != nil {
			return "", err
		}
		got, err := consumeFrom(topic, []int32{0, 1, 2}, sarama.OffsetOldest, len(records))
		if err != nil {
			return "", err
		}
		sort.SliceStable(got, func(i, j int) bool { return got[i].partition < got[j].partition })
		if !modern() {
			return oldFormat, check(records, got, false)
		}
		return "", check(records, got, true)
	}},
	{"two_groups", func() (string, error) {
		if !modern() {
			return "", skip(needsModern + " (consumer groups)")
		}
		topic := name("2g")
		if err := createTopic(topic, 3, nil); err != nil {
			return "", err
		}
		records := sampleRecords(12, 3)
		if err := produce(topic, records, nil); err != nil {
			return "", err
		}
		for _, g := range []string{"a", "b"} {
			got, err := groupConsume(name("2g-"+g), topic, len(records))
			if err != nil {
				return "", err
			}
			if err := check(records, got, true); err != nil {
				return "", err
			}
		}
		return "", nil
	}},
	{"commit_resume", func() (string, error) {
		if !modern() {
			return commitResumeOld()
		}
		topic := name("cr")
		if err := createTopic(topic, 1, nil); err != nil {
			return "", err
		}
		if err := produce(topic, sampleRecords(10, 1), nil); err != nil {
			return "", err
		}
		group := name("cr-g")
		if _, err := groupConsume(group, topic, 4); err != nil {
			return "", err
		}
		rest, err := groupConsume(group, topic, 6)
		if err != nil {
			return "", err
		}
		if rest[0].offset != 4 || rest[5].offset != 9 {
			return "", fmt.Errorf("resumed at %d", rest[0].offset)
		}
		return "", nil
	}},
	{"rebalance", func() (string, error) {
		if !modern() {
			return "", skip(needsModern + " (consumer groups)")
		}
		topic := name("rb")
		if err := createTopic(topic, 4, nil); err != nil {
			return "", err
		}
		group := name("rb-g")
		a, err := join(group, topic, 0)
		if err != nil {
			return "", err
		}
		defer a.close()
		owns := func(m *member, n int) func() bool {
			return func() bool { got, _ := m.h.state(); return got == n }
		}
		if err := waitFor("first member owns 4", 20*time.Second, owns(a, 4)); err != nil {
			return "", err
		}
		b, err := join(group, topic, 0)
		if err != nil {
			return "", err
		}
		if err := waitFor("2/2 split", 30*time.Second, func() bool { return owns(a, 2)() && owns(b, 2)() }); err != nil {
			b.close()
			return "", err
		}
		b.close()
		return "", waitFor("4 again after leave", 30*time.Second, owns(a, 4))
	}},
	{"replay", func() (string, error) {
		topic := name("rp")
		if err := createTopic(topic, 1, nil); err != nil {
			return "", err
		}
		records := sampleRecords(10, 1)
		if err := produce(topic, records, nil); err != nil {
			return "", err
		}
		c, err := sarama.NewClient(bootstrap, newConfig())
		if err != nil {
			return "", err
		}
		defer c.Close()
		if !modern() {
			// ListOffsets v0 and message format v0 have no per-record timestamps: replay by offset only.
			got, err := consumeFrom(topic, []int32{0}, 2, 8)
			if err != nil || got[0].offset != 2 || got[7].offset != 9 {
				return "", fmt.Errorf("from offset 2: %v", err)
			}
			return "by offset only (no timestamps in message format v0)", nil
		}
		off, err := c.GetOffset(topic, 0, records[6].ts.UnixNano()/1e6)
		if err != nil || off != 6 {
			return "", fmt.Errorf("offset for timestamp: %d %v", off, err)
		}
		got, err := consumeFrom(topic, []int32{0}, off, 4)
		if err != nil || got[0].offset != 6 {
			return "", fmt.Errorf("by time: %v %v", got, err)
		}
		got, err = consumeFrom(topic, []int32{0}, 2, 8)
		if err != nil || got[0].offset != 2 || got[7].offset != 9 {
			return "", fmt.Errorf("from offset 2: %v", err)
		}
		return "", nil
	}},
	{"compression", func() (string, error) {
		codecs := map[string]sarama.CompressionCodec{"gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
			"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD}
		var done []string
		names := []string{"gzip", "snappy", "lz4", "zstd"}
		if !modern() {
			names = names[:2] // Sarama: lz4 needs >= 0.10, zstd >= 2.1
		}
		for _, n := range names {
			topic := name("z-" + n)
			if err := createTopic(topic, 1, nil); err != nil {
				return "", err
			}
			records := sampleRecords(20, 1)
			codec := codecs[n]
			if err := produce(topic, records, func(c *sarama.Config) {
				c.Producer.Compression = codec
				c.Producer.Flush.Messages = 20
			}); err != nil {
				return "", fmt.Errorf("%s: %v", n, err)
			}
			got, err := consumeFrom(topic, []int32{0}, sarama.OffsetOldest, len(records))
			if err == nil {
				err = check(records, got, modern())
			}
			if err != nil {
				return "", fmt.Errorf("%s: %v", n, err)
			}
			done = append(done, n)
		}
		return strings.Join(done, ","), nil
	}},
	{"idempotent", func() (string, error) {
		if !modern() {
			return "", skip("the idempotent producer needs config.Version >= 0.11")
		}
		topic := name("idem")
		if err := createTopic(topic, 3, nil); err != nil {
			return "", err
		}
		records := sampleRecords(30, 3)
		if err := produce(topic, records, func(c *sarama.Config) {
			c.Producer.Idempotent = true
			c.Net.MaxOpenRequests = 1
		}); err != nil {
			return "", err
		}
		got, err := consumeFrom(topic, []int32{0, 1, 2}, sarama.OffsetOldest, len(records))
		if err != nil {
			return "", err
		}
		sort.SliceStable(got, func(i, j int) bool { return got[i].partition < got[j].partition })
		return "", check(records, got, true)
	}},
	{"large_record", func() (string, error) {
		topic := name("big")
		if err := createTopic(topic, 1, nil); err != nil {
			return "", err
		}
		value := bytes.Repeat([]byte{7}, 900*1024)
		if err := produce(topic, []rec{{key: []byte("big"), value: value}}, nil); err != nil {
			return "", err
		}
		got, err := consumeFrom(topic, []int32{0}, sarama.OffsetOldest, 1)
		if err != nil {
			return "", err
		}
		if !bytes.Equal(got[0].value, value) {
			return "", fmt.Errorf("large record differs")
		}
		return "", nil
	}},
	{"null_empty_tombstone", func() (string, error) {
		// A null key goes to a plain topic: compacted topics reject it (INVALID_RECORD), as Kafka does.
		plain, compacted := name("nul"), name("tomb")
		if err := createTopic(plain, 1, nil); err != nil {
			return "", err
		}
		if err := createTopic(compacted, 1, map[string]*string{"cleanup.policy": str("compact")}); err != nil {
			return "", err
		}
		for _, c := range []struct {
			topic   string
			records []rec
		}{
			{plain, []rec{{value: []byte("no-key")}, {value: []byte{}}}},
			{compacted, []rec{{key: []byte("k-empty"), value: []byte{}}, {key: []byte("k-tomb"), value: []byte("v")}, {key: []byte("k-tomb")}}},
		} {
			if !modern() && c.topic == compacted {
				continue // topic configs need CreateTopics (>= 0.10.1)
			}
			if err := produce(c.topic, c.records, nil); err != nil {
				return "", err
			}
			got, err := consumeFrom(c.topic, []int32{0}, sarama.OffsetOldest, len(c.records))
			if err != nil {
				return "", err
			}
			if err := check(c.records, got, false); err != nil {
				return "", err
			}
		}
		return "", nil
	}},
}

func main() {
	flag.Parse()
	only := os.Getenv("RUNNEL_COMPAT_ONLY")
	for _, s := range scenarios {
		if only != "" && !strings.Contains(","+only+",", ","+s.id+",") {
			continue
		}
		start := time.Now()
		detail, err := s.fn()
		took := fmt.Sprintf("(%.1fs)", time.Since(start).Seconds())
		if sk, ok := err.(skip); ok {
			fmt.Printf("RESULT %s SKIP %s\n", s.id, string(sk))
		} else if err != nil {
			fmt.Printf("RESULT %s FAIL %s\n", s.id, strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Printf("RESULT %s PASS %s %s\n", s.id, detail, took)
		}
	}
}
