// Compatibility probe for segmentio/kafka-go 0.2.1 (Debian
// golang-github-segmentio-kafka-go-dev), built offline in GOPATH mode.
//
// This version produces with Produce v2 (message format v1) and fetches with
// Fetch v2 (message format v0/v1 only). Runnel, like Kafka 4.0 (KIP-896), serves
// Produce v3+ and Fetch v4+ (RecordBatch v2); see tests/compat/README.md. The
// probe checks what does work (bootstrap, metadata) and that produce and fetch
// are refused cleanly rather than hanging or breaking the connection's broker.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	kafka "github.com/segmentio/kafka-go"
)

const oldFormat = "kafka-go 0.2.1 speaks Produce v2 / Fetch v2 (message format v0/v1); Runnel, like Kafka 4.0 (KIP-896), serves Produce v3+ and Fetch v4+ only"

func main() {
	bootstrap := os.Getenv("RUNNEL_BOOTSTRAP")
	topic := fmt.Sprintf("compat-kgo-%x", time.Now().UnixNano()&0xffffffff)
	report := func(id, status, detail string) {
		fmt.Printf("RESULT %s %s %s\n", id, status, strings.ReplaceAll(detail, "\n", " "))
	}

	conn, err := kafka.Dial("tcp", bootstrap)
	if err != nil {
		report("bootstrap", "FAIL", err.Error())
		return
	}
	// Metadata v1 with a topic name auto-creates it (num.partitions=3).
	var parts []kafka.Partition
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		parts, err = conn.ReadPartitions(topic)
		if err == nil && len(parts) == 3 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	conn.Close()
	if err != nil || len(parts) != 3 {
		report("bootstrap", "FAIL", fmt.Sprintf("metadata: %d partitions, %v", len(parts), err))
		return
	}
	report("bootstrap", "PASS", "kafka-go 0.2.1, metadata v1")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	leader, err := kafka.DialLeader(ctx, "tcp", bootstrap, topic, 0)
	if err != nil {
		report("produce_consume", "FAIL", "dial leader: "+err.Error())
		return
	}
	defer leader.Close()
	leader.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = leader.WriteMessages(kafka.Message{Key: []byte("k"), Value: []byte("v")})
	if err == nil {
		report("produce_consume", "FAIL", "Produce v2 unexpectedly accepted; update this probe")
		return
	}
	report("produce_consume", "SKIP", oldFormat+"; produce was refused cleanly: "+err.Error())
	for _, id := range []string{"two_groups", "commit_resume", "rebalance", "replay", "compression", "large_record", "null_empty_tombstone"} {
		report(id, "SKIP", oldFormat)
	}
	report("topic_admin", "SKIP", "not exercised: nothing can be produced or fetched with this client version")
	report("idempotent", "SKIP", "kafka-go 0.2.1 has no idempotent producer")
}
