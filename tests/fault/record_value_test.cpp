#include "record_value.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace runnel::fault {
namespace {

TEST(RecordValue, RoundTrips) {
  EXPECT_EQ(MakeValue("p1", "user-7", 42), "rv1|p1|user-7|42|");
  EXPECT_EQ(ParseValue("rv1|p1|user-7|42|"), (ValueFields{"p1", "user-7", 42}));
  EXPECT_EQ(ParseValue(MakeValue("", "", 0)), (ValueFields{"", "", 0}));
}

TEST(RecordValue, PadsToTheRequestedSize) {
  const std::string v = MakeValue("p3-r2", "k", 7, 100);
  EXPECT_EQ(v.size(), 100u);
  EXPECT_EQ(v.substr(0, 13), "rv1|p3-r2|k|7");
  EXPECT_EQ(ParseValue(v), (ValueFields{"p3-r2", "k", 7}));
  EXPECT_EQ(MakeValue("p", "k", 1, 3), "rv1|p|k|1|") << "never truncated";
}

TEST(RecordValue, RejectsWhatMakeValueCannotProduce) {
  for (const char* bad : {"", "rv1|p|k|", "rv1|p|k|x|", "rv1|p|k|-1|", "rv1|p|k|1", "rv1|p|k|1|..x", "rv2|p|k|1|",
                          "rv1|p|k|99999999999999999999|", "rv1|p|k||"})
    EXPECT_FALSE(ParseValue(bad).has_value()) << bad;
}

TEST(RecordValue, RefusesSeparatorsInFieldsAndNegativeSequences) {
  EXPECT_THROW(MakeValue("p|1", "k", 0), std::invalid_argument);
  EXPECT_THROW(MakeValue("p", "k|", 0), std::invalid_argument);
  EXPECT_THROW(MakeValue("p", "k", -1), std::invalid_argument);
}

}  // namespace
}  // namespace runnel::fault
