// Compatibility scenarios for segmentio/kafka-go 0.2.1 (Debian
// golang-github-segmentio-kafka-go-dev), built offline in GOPATH mode.
//
// This version produces with Produce v2 (message format v1) and fetches with
// Fetch v2 (message format v1): Runnel converts its message sets to RecordBatch
// v2 on append and down-converts fetched batches to magic 1, as Kafka 3.x does.
// Message format v1 has no headers and kafka-go 0.2.1 has no idempotent producer.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/gzip"
	"github.com/segmentio/kafka-go/lz4"
	"github.com/segmentio/kafka-go/snappy"
)

var (
	bootstrap = os.Getenv("RUNNEL_BOOTSTRAP")
	runID     = fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffff)
)

func name(kind string) string { return fmt.Sprintf("compat-kgo-%s-%s", kind, runID) }

type skip string

func (s skip) Error() string { return string(s) }

// waitPartitions auto-creates a topic through Metadata v1 and waits for n partitions.
func waitPartitions(topic string, n int) error {
	conn, err := kafka.Dial("tcp", bootstrap)
	if err != nil {
		return err
	}
	defer conn.Close()
	var parts []kafka.Partition
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		parts, err = conn.ReadPartitions(topic)
		if err == nil && len(parts) == n {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("metadata: %d partitions, %v", len(parts), err)
}

func leader(topic string, partition int) (*kafka.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := kafka.DialLeader(ctx, "tcp", bootstrap, topic, partition)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c, nil
}

func write(topic string, partition int, codec kafka.CompressionCodec, msgs []kafka.Message) error {
	c, err := leader(topic, partition)
	if err != nil {
		return err
	}
	defer c.Close()
	if codec != nil {
		_, err = c.WriteCompressedMessages(codec, msgs...)
	} else {
		_, err = c.WriteMessages(msgs...)
	}
	return err
}

// read fetches n messages of one partition from offset (Fetch v2).
func read(topic string, partition int, offset int64, n int) ([]kafka.Message, error) {
	c, err := leader(topic, partition)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Seek(offset, kafka.SeekAbsolute); err != nil {
		return nil, err
	}
	var out []kafka.Message
	for len(out) < n {
		batch := c.ReadBatch(1, 4<<20)
		for len(out) < n {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			out = append(out, m)
		}
		if err := batch.Close(); err != nil && len(out) < n {
			return out, err
		}
	}
	return out, nil
}

func sample(n int) []kafka.Message {
	now := time.Now().Truncate(time.Millisecond)
	out := make([]kafka.Message, n)
	for i := range out {
		out[i] = kafka.Message{Key: []byte(fmt.Sprintf("key-%d", i)), Value: []byte(fmt.Sprintf("value-%d", i)),
			Time: now.Add(time.Duration(i-1000) * time.Millisecond)}
	}
	return out
}

func check(want, got []kafka.Message, first int64, withTime bool) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d messages, expected %d", len(got), len(want))
	}
	for i, m := range got {
		w := want[i]
		if m.Offset != first+int64(i) {
			return fmt.Errorf("message %d at offset %d, expected %d", i, m.Offset, first+int64(i))
		}
		// kafka-go 0.2.1 reads an empty key or value as nil (readNewBytes), so null and
		// empty cannot be told apart on this client; bytes.Equal treats them alike.
		if !bytes.Equal(m.Key, w.Key) || !bytes.Equal(m.Value, w.Value) {
			return fmt.Errorf("message %q=%q, expected %q=%q", m.Key, m.Value, w.Key, w.Value)
		}
		if withTime && !m.Time.Equal(w.Time) {
			return fmt.Errorf("timestamp %v, expected %v", m.Time, w.Time)
		}
	}
	return nil
}

// groupRead reads n messages with a consumer-group Reader (commits synchronously).
func groupRead(group, topic string, n int) ([]kafka.Message, error) {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{bootstrap}, GroupID: group, Topic: topic,
		MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 200 * time.Millisecond, HeartbeatInterval: 300 * time.Millisecond,
		SessionTimeout: 6 * time.Second})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []kafka.Message
	for len(out) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return out, fmt.Errorf("after %d of %d: %v", len(out), n, err)
		}
		out = append(out, m)
	}
	return out, nil
}

const notHere = "not exercised with this client"

var scenarios = []struct {
	id string
	fn func() (string, error)
}{
	{"bootstrap", func() (string, error) {
		return "kafka-go 0.2.1, metadata v1", waitPartitions(name("boot"), 3)
	}},
	{"topic_admin", func() (string, error) {
		return "", skip(notHere + ": kafka-go 0.2.1 has CreateTopics/DeleteTopics but no DescribeConfigs")
	}},
	{"produce_consume", func() (string, error) {
		topic := name("pc")
		if err := waitPartitions(topic, 3); err != nil {
			return "", err
		}
		msgs := sample(30)
		for p := 0; p < 3; p++ {
			part := msgs[p*10 : p*10+10]
			if err := write(topic, p, nil, part); err != nil {
				return "", fmt.Errorf("partition %d: %v", p, err)
			}
			got, err := read(topic, p, 0, len(part))
			if err == nil {
				err = check(part, got, 0, true)
			}
			if err != nil {
				return "", fmt.Errorf("partition %d: %v", p, err)
			}
		}
		return "Produce v2 / Fetch v2, message format v1 (no headers)", nil
	}},
	{"two_groups", func() (string, error) {
		topic := name("2g")
		if err := waitPartitions(topic, 3); err != nil {
			return "", err
		}
		msgs := sample(4)
		if err := write(topic, 0, nil, msgs); err != nil {
			return "", err
		}
		for _, g := range []string{"a", "b"} {
			got, err := groupRead(name("2g-"+g), topic, len(msgs))
			if err == nil {
				err = check(msgs, got, 0, true)
			}
			if err != nil {
				return "", fmt.Errorf("group %s: %v", g, err)
			}
		}
		return "", nil
	}},
	{"commit_resume", func() (string, error) {
		topic := name("cr")
		if err := waitPartitions(topic, 3); err != nil {
			return "", err
		}
		if err := write(topic, 0, nil, sample(10)); err != nil {
			return "", err
		}
		group := name("cr-g")
		if _, err := groupRead(group, topic, 4); err != nil {
			return "", err
		}
		rest, err := groupRead(group, topic, 6)
		if err != nil {
			return "", err
		}
		if rest[0].Offset != 4 || rest[5].Offset != 9 {
			return "", fmt.Errorf("resumed at %d", rest[0].Offset)
		}
		return "", nil
	}},
	{"rebalance", func() (string, error) {
		return "", skip(notHere + ": kafka-go 0.2.1's Reader does not expose its assignment, so the split cannot be observed")
	}},
	{"replay", func() (string, error) {
		topic := name("rp")
		if err := waitPartitions(topic, 3); err != nil {
			return "", err
		}
		msgs := sample(10)
		if err := write(topic, 0, nil, msgs); err != nil {
			return "", err
		}
		c, err := leader(topic, 0)
		if err != nil {
			return "", err
		}
		off, err := c.ReadOffset(msgs[6].Time)
		c.Close()
		if err != nil || off != 6 {
			return "", fmt.Errorf("offset for timestamp: %d %v", off, err)
		}
		got, err := read(topic, 0, 2, 8)
		if err == nil {
			err = check(msgs[2:], got, 2, true)
		}
		return "", err
	}},
	{"compression", func() (string, error) {
		codecs := []struct {
			name  string
			codec kafka.CompressionCodec
		}{{"gzip", gzip.NewCompressionCodec()}, {"snappy", snappy.NewCompressionCodec()}, {"lz4", lz4.NewCompressionCodec()}}
		var done []string
		for _, z := range codecs {
			topic := name("z-" + z.name)
			if err := waitPartitions(topic, 3); err != nil {
				return "", err
			}
			msgs := sample(20)
			if err := write(topic, 0, z.codec, msgs); err != nil {
				return "", fmt.Errorf("%s: %v", z.name, err)
			}
			got, err := read(topic, 0, 0, len(msgs))
			if err == nil {
				err = check(msgs, got, 0, true)
			}
			if err != nil {
				return "", fmt.Errorf("%s: %v", z.name, err)
			}
			done = append(done, z.name)
		}
		return strings.Join(done, ","), nil
	}},
	{"idempotent", func() (string, error) {
		return "", skip("kafka-go 0.2.1 has no idempotent producer")
	}},
	{"large_record", func() (string, error) {
		topic := name("big")
		if err := waitPartitions(topic, 3); err != nil {
			return "", err
		}
		value := bytes.Repeat([]byte{7}, 900*1024)
		msgs := []kafka.Message{{Key: []byte("big"), Value: value}}
		if err := write(topic, 0, nil, msgs); err != nil {
			return "", err
		}
		got, err := read(topic, 0, 0, 1)
		if err == nil {
			err = check(msgs, got, 0, false)
		}
		return "", err
	}},
	{"null_empty_tombstone", func() (string, error) {
		// Plain topic only: a compacted topic needs topic configs, which this client cannot set.
		topic := name("nul")
		if err := waitPartitions(topic, 3); err != nil {
			return "", err
		}
		msgs := []kafka.Message{{Value: []byte("no-key")}, {Key: []byte("k-empty"), Value: []byte{}}, {Key: []byte("k-null")}}
		if err := write(topic, 0, nil, msgs); err != nil {
			return "", err
		}
		got, err := read(topic, 0, 0, len(msgs))
		if err == nil {
			err = check(msgs, got, 0, false)
		}
		return "null key, empty value, null value (plain topic; this client reads empty as null)", err
	}},
}

func main() {
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
