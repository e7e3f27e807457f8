#include "cluster/metadata_store.h"

#include <gtest/gtest.h>

namespace runnel::cluster {
namespace {

TEST(PrefixRangeEnd, IncrementsTheLastByte) {
  EXPECT_EQ(prefix_range_end("abc"), "abd");
  EXPECT_EQ(prefix_range_end("/brokers/"), "/brokers0");
  EXPECT_EQ(prefix_range_end(std::string("a\x7f", 2)), std::string("a\x80", 2));
  EXPECT_EQ(prefix_range_end(std::string("a\xfe", 2)), std::string("a\xff", 2));
}

TEST(PrefixRangeEnd, DropsTrailingFfBytes) {
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("ab\xff\xff", 4)), "ac");
  EXPECT_EQ(prefix_range_end(std::string("a\xff" "b\xff", 4)), std::string("a\xff" "c", 3));
}

TEST(PrefixRangeEnd, NoUpperBoundIsNul) {
  EXPECT_EQ(prefix_range_end(""), std::string(1, '\0'));
  EXPECT_EQ(prefix_range_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
}

TEST(TxnOps, PrefixOpsUseTheRangeEnd) {
  EXPECT_EQ(TxnOp::get_prefix("/t/").range_end, "/t0");
  EXPECT_EQ(TxnOp::del_prefix("/t/").range_end, "/t0");
  EXPECT_TRUE(TxnOp::get("/t/").range_end.empty());
}

}  // namespace
}  // namespace runnel::cluster
