#include "services/policy/policy_loader.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/iam/v1/policy.pb.h"

namespace iam::policy {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// An issue at file:line:column whose message contains `text`.
::testing::Matcher<LintIssue> IssueAt(const std::string& file, int line,
                                      int column, const std::string& text = "") {
  return AllOf(Field("file", &LintIssue::file, file),
               Field("line", &LintIssue::line, line),
               Field("column", &LintIssue::column, column),
               Field("message", &LintIssue::message, HasSubstr(text)));
}

std::string Describe(const std::vector<LintIssue>& issues) {
  std::vector<std::string> lines;
  for (const LintIssue& issue : issues) lines.push_back(FormatIssue(issue));
  return absl::StrJoin(lines, "\n");
}

class PolicyLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  // Writes `contents` to `name` in this test's directory; returns its path.
  std::string Write(absl::string_view name, absl::string_view contents) {
    std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream out(path, std::ios::binary);
    out << contents;
    return path;
  }

  std::string dir_;
};

constexpr absl::string_view kPermissions = R"pb(# Two permissions.
permissions {
  name: "mes.work_order:view"
  description: "See work orders."
}
permissions {
  name: "mes.work_order:release"
}
)pb";

TEST_F(PolicyLoaderTest, SamplePolicyLoadsClean) {
  absl::StatusOr<std::vector<std::string>> files = PolicyFilesInDir("policy");
  ASSERT_TRUE(files.ok()) << files.status();
  // Other areas (badges, passwords, ...) add files of their own.
  EXPECT_THAT(*files, ::testing::IsSupersetOf({"policy/permissions.textproto",
                                               "policy/roles.textproto",
                                               "policy/scopes.textproto",
                                               "policy/password.textproto"}));
  LoadedPolicy loaded = LoadPolicyFiles(*files);
  EXPECT_THAT(loaded.issues, IsEmpty()) << Describe(loaded.issues);
  EXPECT_GE(loaded.merged.permissions_size(), 40);
  EXPECT_GE(loaded.merged.scopes_size(), 14);
}

TEST_F(PolicyLoaderTest, SamplePolicyHasTheRolesAndAdminPermissionsTheServerNeeds) {
  absl::StatusOr<std::vector<std::string>> files = PolicyFilesInDir("policy");
  ASSERT_TRUE(files.ok()) << files.status();
  absl::StatusOr<iam::v1::PolicyDocument> policy = LoadPolicyOrError(*files);
  ASSERT_TRUE(policy.ok()) << policy.status();

  std::set<std::string> permissions;
  for (const auto& p : policy->permissions()) permissions.insert(p.name());
  const std::set<std::string> iam_permissions = {
      "iam.people:read",    "iam.people:write",   "iam.policy:read",
      "iam.policy:write",   "iam.bindings:read",  "iam.bindings:write",
      "iam.subjects:write", "iam.authz:check",    "iam.audit:read"};
  for (const std::string& p : iam_permissions) EXPECT_TRUE(permissions.count(p)) << p;

  std::map<std::string, const iam::v1::Role*> roles;
  for (const auto& r : policy->roles()) roles[r.name()] = &r;
  for (const char* name :
       {"line_operator", "line_lead", "burning_technician", "burning_lead",
        "qa_inspector", "maintenance_engineer", "warehouse_clerk",
        "dispatch_lead", "it_administrator", "security_officer", "hr_partner",
        "iam_admin", "iam_auditor", "factory_system", "identity_service"}) {
    EXPECT_TRUE(roles.count(name)) << name;
  }
  auto direct = [&](const std::string& role) {
    const iam::v1::Role* r = roles.at(role);
    return std::set<std::string>(r->permissions().begin(), r->permissions().end());
  };
  // iam_admin holds every iam.* permission, those of later areas too.
  EXPECT_THAT(direct("iam_admin"), ::testing::IsSupersetOf(iam_permissions));
  EXPECT_THAT(direct("iam_admin"),
              ::testing::IsSupersetOf({"iam.passwords:authenticate",
                                       "iam.passwords:read", "iam.passwords:write"}));
  EXPECT_EQ(direct("iam_auditor"),
            (std::set<std::string>{"iam.audit:read", "iam.people:read",
                                   "iam.bindings:read", "iam.policy:read"}));
  EXPECT_EQ(direct("factory_system"),
            (std::set<std::string>{"iam.authz:check", "iam.passwords:authenticate"}));
  EXPECT_EQ(direct("identity_service"),
            (std::set<std::string>{"iam.subjects:write", "iam.people:read"}));
  EXPECT_THAT(roles.at("line_lead")->inherits(), ElementsAre("line_operator"));

  std::set<std::string> scopes;
  for (const auto& s : policy->scopes()) scopes.insert(s.path());
  for (const char* path :
       {"site/sz", "site/sz/line/1", "site/sz/line/2", "site/sz/line/3",
        "site/hz", "site/hz/line/1", "site/hz/line/2", "site/sz/area/burning",
        "site/sz/area/server_room", "site/sz/area/key_parts",
        "site/hz/area/burning", "site/hz/area/key_parts",
        "site/sz/warehouse/main"}) {
    EXPECT_TRUE(scopes.count(path)) << path;
  }
}

TEST_F(PolicyLoaderTest, MergesFilesInOrder) {
  std::string permissions = Write("a.textproto", kPermissions);
  std::string roles = Write("b.textproto", R"pb(
roles {
  name: "line_lead"
  permissions: "mes.work_order:release"
  inherits: "line_operator"
}
permissions { name: "mes.routing:view" }
)pb");
  std::string more = Write("c.textproto", R"pb(
roles { name: "line_operator" permissions: ["mes.work_order:view", "mes.routing:view"] }
scopes { path: "site/sz" }
scopes { path: "site/sz/line/1" }
)pb");
  LoadedPolicy loaded = LoadPolicyFiles({permissions, roles, more});
  EXPECT_THAT(loaded.issues, IsEmpty()) << Describe(loaded.issues);
  ASSERT_EQ(loaded.merged.permissions_size(), 3);
  EXPECT_EQ(loaded.merged.permissions(0).name(), "mes.work_order:view");
  EXPECT_EQ(loaded.merged.permissions(0).description(), "See work orders.");
  EXPECT_EQ(loaded.merged.permissions(2).name(), "mes.routing:view");
  ASSERT_EQ(loaded.merged.roles_size(), 2);
  EXPECT_EQ(loaded.merged.roles(0).name(), "line_lead");
  EXPECT_EQ(loaded.merged.roles(1).name(), "line_operator");
  EXPECT_THAT(loaded.merged.roles(1).permissions(), SizeIs(2));
  EXPECT_EQ(loaded.merged.scopes_size(), 2);
}

TEST_F(PolicyLoaderTest, SyntaxErrorHasFileLineAndColumn) {
  std::string path = Write("p.textproto", R"pb(permissions {
  name: "mes.work_order:view"
  descripton: "typo"
}
)pb");
  LoadedPolicy loaded = LoadPolicyFiles({path});
  EXPECT_THAT(loaded.issues, ElementsAre(IssueAt(path, 3, 3, "descripton")));
}

TEST_F(PolicyLoaderTest, ReportsEverySyntaxErrorNotOnlyTheFirst) {
  std::string first = Write("a.textproto", R"pb(permissions {
  name: "mes.a:b"
  nme: "x"
}
permissions { name: "mes.c:d" }
permissions {
  name: mes.e:f
}
roles {
  name: "r"
  permissions: "mes.a:b" "
}
)pb");
  std::string second = Write("b.textproto", R"pb(
scopes { path: "site/sz" }
scope { path: "site/hz" }
)pb");
  LoadedPolicy loaded = LoadPolicyFiles({first, second});
  EXPECT_THAT(loaded.issues,
              ElementsAre(IssueAt(first, 3, 3, "nme"), IssueAt(first, 7, 9),
                          IssueAt(first, 11, 27, "cross line"), IssueAt(second, 3, 1, "scope")))
      << Describe(loaded.issues);
}

TEST_F(PolicyLoaderTest, UnclosedBraceIsReportedWhereParsingStops) {
  std::string path = Write("p.textproto", R"pb(permissions {
  name: "mes.a:b"

permissions { name: "mes.c:d" }
)pb");
  LoadedPolicy loaded = LoadPolicyFiles({path});
  EXPECT_THAT(loaded.issues, ElementsAre(IssueAt(path, 4, 1, "permissions")))
      << Describe(loaded.issues);
}

TEST_F(PolicyLoaderTest, UnreadableFileIsAnIssueAtLineZero) {
  std::string good = Write("good.textproto", kPermissions);
  std::string missing = absl::StrCat(dir_, "/missing.textproto");
  LoadedPolicy loaded = LoadPolicyFiles({good, missing, dir_});
  EXPECT_THAT(loaded.issues,
              ElementsAre(IssueAt(missing, 0, 0, "cannot open"),
                          IssueAt(dir_, 0, 0, "cannot read")))
      << Describe(loaded.issues);
}

TEST_F(PolicyLoaderTest, InvalidNamesPointAtTheValue) {
  std::string path = Write("p.textproto", R"pb(permissions {
  name: "MES.Work_Order:view"
}
roles {
  name: "Line Lead"
}
scopes {
  path: "site/sz/line"
}
scopes {	path: "/site/hz" }
)pb");
  LoadedPolicy loaded = LoadPolicyFiles({path});
  // A tab advances the column to the next multiple of 8, as protobuf counts.
  EXPECT_THAT(loaded.issues,
              ElementsAre(IssueAt(path, 2, 9, "permission name"),
                          IssueAt(path, 5, 9, "role name"),
                          IssueAt(path, 8, 9, "scope path"),
                          IssueAt(path, 10, 23, "scope path")))
      << Describe(loaded.issues);
}

TEST_F(PolicyLoaderTest, RoleEntriesPointAtTheEntry) {
  std::string permissions = Write("a.textproto", kPermissions);
  std::string roles = Write("b.textproto", R"pb(roles {
  name: "line_operator"
  permissions: "mes.work_order:view"
  permissions: "mes.work_order:scrap"
}
roles {
  name: "line_lead"
  inherits: ["line_operator", "shift_boss"]
  permissions: ["mes.work_order:view",
                "mes.work_order:view"]
}
)pb");
  LoadedPolicy loaded = LoadPolicyFiles({permissions, roles});
  EXPECT_THAT(
      loaded.issues,
      ElementsAre(
          IssueAt(roles, 4, 16,
                  "role \"line_operator\" permissions[1]: permission "
                  "\"mes.work_order:scrap\" is not declared"),
          IssueAt(roles, 8, 31, "role \"line_lead\" inherits[1]: role \"shift_boss\""),
          IssueAt(roles, 10, 17, "listed twice")))
      << Describe(loaded.issues);
}

TEST_F(PolicyLoaderTest, InheritanceCycleIsReportedOnTheEntryThatClosesIt) {
  std::string path = Write("p.textproto", R"pb(
roles { name: "a" inherits: "b" }
roles { name: "b" inherits: "c" }
roles {
  name: "c"
  inherits: "a"
}
)pb");
  LoadedPolicy loaded = LoadPolicyFiles({path});
  EXPECT_THAT(loaded.issues, ElementsAre(IssueAt(path, 6, 13, "a -> b -> c -> a")))
      << Describe(loaded.issues);
}

TEST_F(PolicyLoaderTest, ScopeWithoutParentPointsAtItsPath) {
  std::string path = Write("p.textproto", R"pb(
scopes { path: "site/sz" }
scopes { path: "site/sz/line/1" }
scopes { path: "site/hz/line/1" }
)pb");
  LoadedPolicy loaded = LoadPolicyFiles({path});
  EXPECT_THAT(loaded.issues, ElementsAre(IssueAt(path, 4, 16, "\"site/hz\"")))
      << Describe(loaded.issues);
}

TEST_F(PolicyLoaderTest, ObjectWithoutNamePointsAtTheObject) {
  std::string path = Write("p.textproto", R"pb(permissions { name: "mes.a:b" }
  roles {
  description: "forgot the name"
  permissions: "mes.a:b"
}
)pb");
  LoadedPolicy loaded = LoadPolicyFiles({path});
  EXPECT_THAT(loaded.issues, ElementsAre(IssueAt(path, 2, 3, "empty")))
      << Describe(loaded.issues);
}

TEST_F(PolicyLoaderTest, DuplicatesAcrossFilesPointAtTheSecondOccurrence) {
  std::string first = Write("a.textproto", R"pb(
permissions { name: "mes.a:b" }
roles { name: "r" }
scopes { path: "site/sz" }
)pb");
  std::string second = Write("b.textproto", R"pb(# Copied by mistake.

scopes {
  path: "site/sz"
}
roles {
  name: "r"
}
permissions {
  name: "mes.a:b"
}
)pb");
  LoadedPolicy loaded = LoadPolicyFiles({first, second});
  EXPECT_THAT(loaded.issues,
              ElementsAre(IssueAt(second, 4, 9, "declared twice"),
                          IssueAt(second, 7, 9, "declared twice"),
                          IssueAt(second, 10, 9, "declared twice")))
      << Describe(loaded.issues);
}

TEST_F(PolicyLoaderTest, ReportsManyKindsOfErrorsInOneRun) {
  std::string a = Write("a.textproto", R"pb(permissions { name: "mes.a:b" }
permissions { name: "mes.a" }
permissions { name: "mes.a:b" }
)pb");
  std::string b = Write("b.textproto", R"pb(roles {
  name: "r"
  permissions: "mes.x:y"
  inherits: "r"
}
scopes { path: "/" }
scopes { path: "site/sz/area/burning" }
)pb");
  LoadedPolicy loaded = LoadPolicyFiles({a, b});
  EXPECT_THAT(loaded.issues,
              ElementsAre(IssueAt(a, 2, 21, "no ':'"),
                          IssueAt(a, 3, 21, "declared twice"),
                          IssueAt(b, 3, 16, "not declared"),
                          IssueAt(b, 4, 13, "cycle r -> r"),
                          IssueAt(b, 6, 16, "root"),
                          IssueAt(b, 7, 16, "parent scope")))
      << Describe(loaded.issues);
}

TEST_F(PolicyLoaderTest, SyntaxErrorsSkipValidationOfTheIncompletePolicy) {
  // The broken permission would make the role's entry look undeclared.
  std::string a = Write("a.textproto", R"pb(permissions { name: "mes.a:b" ]
)pb");
  std::string b = Write("b.textproto", R"pb(roles { name: "r" permissions: "mes.a:b" }
)pb");
  LoadedPolicy loaded = LoadPolicyFiles({a, b});
  EXPECT_THAT(loaded.issues, ElementsAre(IssueAt(a, 1, 31)))
      << Describe(loaded.issues);
}

TEST_F(PolicyLoaderTest, FormatIssueIsFileLineColumnMessage) {
  EXPECT_EQ(FormatIssue(LintIssue{"policy/roles.textproto", 12, 5, "bad"}),
            "policy/roles.textproto:12:5: bad");
}

TEST_F(PolicyLoaderTest, LoadPolicyOrErrorListsEveryIssue) {
  std::string path = Write("p.textproto", R"pb(permissions { name: "Bad" }
roles { name: "r" permissions: "mes.a:b" }
)pb");
  absl::StatusOr<iam::v1::PolicyDocument> policy = LoadPolicyOrError({path});
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  std::string message(policy.status().message());
  EXPECT_THAT(message, HasSubstr("policy has 2 issues:\n"));
  EXPECT_THAT(message, HasSubstr(absl::StrCat("\n", path, ":1:21: ")));
  EXPECT_THAT(message, HasSubstr(absl::StrCat("\n", path, ":2:32: ")));

  std::string good = Write("good.textproto", kPermissions);
  policy = LoadPolicyOrError({good});
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->permissions_size(), 2);
}

TEST_F(PolicyLoaderTest, PolicyFilesInDirListsTextprotoFilesSorted) {
  Write("roles.textproto", "");
  Write("b.textproto", "");
  Write("a.textproto", "");
  Write("notes.md", "");
  Write(".#roles.textproto", "");
  fs::create_directories(dir_ + "/sub.textproto");
  fs::create_directories(dir_ + "/nested");
  Write("nested/x.textproto", "");
  absl::StatusOr<std::vector<std::string>> files = PolicyFilesInDir(dir_);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre(dir_ + "/a.textproto", dir_ + "/b.textproto",
                                  dir_ + "/roles.textproto"));
}

TEST_F(PolicyLoaderTest, PolicyFilesInDirFailsOnMissingOrEmptyDir) {
  absl::StatusOr<std::vector<std::string>> files =
      PolicyFilesInDir(dir_ + "/nope");
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  Write("readme.txt", "");
  files = PolicyFilesInDir(dir_);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(files.status().message()), HasSubstr("no *.textproto"));
  files = PolicyFilesInDir(dir_ + "/readme.txt");
  EXPECT_EQ(files.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace iam::policy
