#include "services/lifecycle/hr_csv.h"

#include "gtest/gtest.h"

namespace iam::lifecycle {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1780000000);

TEST(HrCsvTest, ParsesRowsWithQuotesAndAnyColumnOrder) {
  auto rows = ParseHrCsv(
      "type,event_id,person_id,display_name,org_unit,job_code,site,effective_at,reason\r\n"
      "hire,e-1,p-1,\"Wei, Li\",ou/production,LINE_OPERATOR,sz,2026-07-01T08:00:00+08:00,"
      "\"said \"\"hi\"\"\"\r\n"
      "leave,e-2,p-2,,,,,,\r\n",
      kNow);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  const HrRow& hire = (*rows)[0];
  EXPECT_TRUE(hire.error.empty()) << hire.error;
  EXPECT_EQ(hire.line, 2);
  EXPECT_EQ(hire.type, iam::v1::HR_EVENT_TYPE_HIRE);
  EXPECT_EQ(hire.hire.display_name(), "Wei, Li");
  EXPECT_EQ(hire.hire.event().reason(), "said \"hi\"");
  EXPECT_EQ(hire.hire.event().effective_at(), "2026-07-01T08:00:00+08:00");
  EXPECT_EQ((*rows)[1].type, iam::v1::HR_EVENT_TYPE_LEAVE);
  EXPECT_EQ((*rows)[1].effective, kNow);
}

TEST(HrCsvTest, BadRowsSayWhatIsWrongAndOthersStayGood) {
  auto rows = ParseHrCsv(
      "event_id,type,person_id,effective_at,org_unit,job_code\n"
      "e-1,fire,p-1,,,\n"                           // 2 unknown type
      "e-2,leave,p-2,2026-07-01T00:00:00,,\n"       // 3 no zone
      "e-3,hire,p-3,,ou/x,\n"                       // 4 hire without name
      "e-4,leave,p-4,,,\n"                          // 5 good
      "e-4,leave,p-5,,,\n"                          // 6 repeated id
      "e-5,leave,p-4,,,\n"                          // 7 same change as 5
      "e-6,move,p-6,,,\n"                           // 8 move of nothing
      "e-7,leave,p-7\n",                            // 9 short row
      kNow);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 8u);
  auto error_of = [&](int line) {
    for (const auto& r : *rows) {
      if (r.line == line) return r.error;
    }
    return std::string("no such line");
  };
  EXPECT_NE(error_of(2).find("not one of hire"), std::string::npos) << error_of(2);
  EXPECT_NE(error_of(3).find("no time zone"), std::string::npos) << error_of(3);
  EXPECT_NE(error_of(4).find("a hire needs"), std::string::npos) << error_of(4);
  EXPECT_EQ(error_of(5), "");
  EXPECT_NE(error_of(6).find("repeats line 5"), std::string::npos) << error_of(6);
  EXPECT_NE(error_of(7).find("as line 5"), std::string::npos) << error_of(7);
  EXPECT_NE(error_of(8).find("at least one of"), std::string::npos) << error_of(8);
  EXPECT_NE(error_of(9).find("fields but the header has"), std::string::npos) << error_of(9);
}

TEST(HrCsvTest, FileLevelProblemsAreErrors) {
  EXPECT_EQ(ParseHrCsv("", kNow).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHrCsv("e-1,leave,p-1\n", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);  // no header
  EXPECT_EQ(ParseHrCsv("event_id,type,person_id,salary\n", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto open = ParseHrCsv("event_id,type,person_id\ne-1,leave,\"p-1\n", kNow);
  EXPECT_EQ(open.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(open.status().message().find("line 2"), std::string::npos);
  EXPECT_EQ(ParseHrCsv("event_id,type,person_id\ne-1,leave,p-1\ne-2,leave,p-2\n", kNow, 1)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iam::lifecycle
