#include "tests/loadgen_stats.h"

#include <vector>

#include "gtest/gtest.h"

namespace iam::testing {
namespace {

TEST(PercentileTest, UsesNearestRank) {
  std::vector<int64_t> v;
  for (int i = 1; i <= 1000; ++i) v.push_back(i);
  EXPECT_EQ(Percentile(v, 0.50), 500);
  EXPECT_EQ(Percentile(v, 0.99), 990);
  EXPECT_EQ(Percentile(v, 0.999), 999);
  EXPECT_EQ(Percentile(v, 1.0), 1000);
  EXPECT_EQ(Percentile({}, 0.5), 0);
  EXPECT_EQ(Percentile({7}, 0.001), 7);
}

TEST(SummarizeTest, SortsAndSummarizesUnorderedSamples) {
  std::vector<int64_t> v = {30, 10, 20, 40};
  LatencySummary s = Summarize(v);
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.p50, 20);
  EXPECT_EQ(s.p90, 40);
  EXPECT_EQ(s.max, 40);
  EXPECT_DOUBLE_EQ(s.mean, 25);
}

TEST(PhaseTallyTest, MergeAddsEverything) {
  PhaseTally a;
  a.latencies_ns = {1, 2};
  a.ok_calls = 2;
  a.decisions = 200;
  a.allowed = 100;
  a.errors_by_code[14] = 1;
  PhaseTally b;
  b.latencies_ns = {3};
  b.ok_calls = 1;
  b.decisions = 100;
  b.allowed = 40;
  b.errors_by_code[14] = 2;
  b.errors_by_code[4] = 1;
  b.missed_sends = 5;
  a.Merge(std::move(b));
  PhaseResult r = MakePhaseResult(a);
  r.seconds = 2;
  EXPECT_EQ(r.latency.count, 3);
  EXPECT_EQ(r.ok_calls, 3);
  EXPECT_EQ(r.error_calls, 4);
  EXPECT_EQ(r.errors_by_code.at(14), 3);
  EXPECT_EQ(r.missed_sends, 5);
  EXPECT_DOUBLE_EQ(r.calls_per_second(), 3.5);
  EXPECT_DOUBLE_EQ(r.decisions_per_second(), 150);
  EXPECT_DOUBLE_EQ(r.allowed_fraction(), 140.0 / 300);
}

TEST(FormatTest, NamesErrorCodesInEveryRendering) {
  PhaseTally t;
  t.latencies_ns = {1000000};
  t.errors_by_code[14] = 1;
  PhaseResult r = MakePhaseResult(t);
  r.name = "check full load";
  r.rpc = "Check";
  r.seconds = 1;
  EXPECT_NE(FormatPhaseText(r).find("UNAVAILABLE=1"), std::string::npos);
  EXPECT_NE(FormatPhaseJson(r).find("\"UNAVAILABLE\":1"), std::string::npos);
  r.client_cores = 0.5;
  r.server_cores = 1.25;
  r.other_cores = 0.125;
  const std::string table = FormatMarkdownTable({r});
  EXPECT_NE(table.find("| check full load |"), std::string::npos);
  EXPECT_NE(table.find("| 0.50 / 1.25 / 0.12 |"), std::string::npos) << table;
  EXPECT_EQ(StatusCodeName(16), "UNAUTHENTICATED");
  EXPECT_EQ(StatusCodeName(99), "CODE_99");
}

}  // namespace
}  // namespace iam::testing
