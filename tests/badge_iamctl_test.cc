// iamctl's badge and area commands against a real iamd: output and exit
// codes of badge issue / lost / list and area who-can-enter / log.
#include <stdio.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

struct Result {
  int exit_code;
  std::string output;  // stdout and stderr
};

class BadgeIamctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = IamdProcess::Start(NewTempDir("badge_iamctl"));
    ASSERT_TRUE(started.ok()) << started.status();
    iamd_ = std::move(*started);
  }

  Result Run(const std::vector<std::string>& args) {
    std::vector<std::string> quoted;
    for (const auto& a : args) quoted.push_back(absl::StrCat("'", a, "'"));
    std::string cmd = absl::StrCat("IAM_SERVER=", iamd_->address(),
                                   " IAM_CALLER=admin '", Runfile("admin/iamctl"),
                                   "' ", absl::StrJoin(quoted, " "), " 2>&1");
    FILE* pipe = popen(cmd.c_str(), "r");
    Result r{-1, ""};
    if (pipe == nullptr) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
    int status = pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }

  std::unique_ptr<IamdProcess> iamd_;
};

TEST_F(BadgeIamctlTest, IssueListWhoCanEnterLostAndLog) {
  ASSERT_EQ(Run({"person", "create", "p-7", "--name", "Wang Fang", "--org-unit",
                 "ou/it", "--job", "IT_ADMIN", "--site", "sz", "--status",
                 "active", "--reason", "HR-7"})
                .exit_code,
            0);
  ASSERT_EQ(Run({"bind", "--person", "p-7", "--role", "it_administrator", "--scope",
                 "site/sz/area/server_room", "--reason", "CHG-7"})
                .exit_code,
            0);
  Result issued = Run({"badge", "issue", "p-7", "04a1b2c3", "--valid-for", "365d",
                       "--reason", "SEC-7"});
  ASSERT_EQ(issued.exit_code, 0) << issued.output;
  EXPECT_NE(issued.output.find("04A1B2C3"), std::string::npos) << issued.output;
  EXPECT_NE(issued.output.find("b-00000001"), std::string::npos) << issued.output;

  Result list = Run({"badge", "list", "--person", "p-7"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("active"), std::string::npos) << list.output;

  Result who = Run({"area", "who-can-enter", "sz-server-room"});
  ASSERT_EQ(who.exit_code, 0) << who.output;
  EXPECT_NE(who.output.find("p-7"), std::string::npos) << who.output;
  EXPECT_NE(who.output.find("it-admins"), std::string::npos) << who.output;

  Result lost = Run({"badge", "lost", "b-00000001", "--reason", "lost on the bus"});
  ASSERT_EQ(lost.exit_code, 0) << lost.output;
  EXPECT_NE(lost.output.find("lost"), std::string::npos);
  who = Run({"area", "who-can-enter", "sz-server-room"});
  EXPECT_EQ(who.output.find("p-7"), std::string::npos) << who.output;

  Result log = Run({"area", "log", "sz-server-room"});
  EXPECT_EQ(log.exit_code, 0) << log.output;
  EXPECT_NE(log.output.find("OUTCOME"), std::string::npos) << log.output;
}

TEST_F(BadgeIamctlTest, BadArgumentsGiveUsageOrServerErrors) {
  Result both = Run({"badge", "issue", "p-1", "04A1B2C3", "--reason", "x"});
  EXPECT_EQ(both.exit_code, 2) << both.output;
  EXPECT_NE(both.output.find("--expires"), std::string::npos);
  Result bad_card = Run({"badge", "issue", "admin", "xyz", "--valid-for", "1d",
                         "--reason", "x"});
  EXPECT_NE(bad_card.exit_code, 0);
  EXPECT_NE(bad_card.output.find("INVALID_ARGUMENT"), std::string::npos) << bad_card.output;
  Result unknown = Run({"area", "log", "no-such-area"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("NOT_FOUND"), std::string::npos) << unknown.output;
  Result state = Run({"badge", "list", "--state", "bogus"});
  EXPECT_EQ(state.exit_code, 2) << state.output;
}

}  // namespace
}  // namespace iam::testing
