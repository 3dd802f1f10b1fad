#include "services/authz/policy_validator.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace iam::authz {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

iam::v1::PolicyDocument Parse(const std::string& text) {
  iam::v1::PolicyDocument doc;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &doc)) << text;
  return doc;
}

auto IssueAt(const std::string& type, int index, const std::string& field,
             int field_index, const std::string& message_part) {
  return AllOf(Field(&PolicyIssue::object_type, type),
               Field(&PolicyIssue::index, index),
               Field(&PolicyIssue::field, field),
               Field(&PolicyIssue::field_index, field_index),
               Field(&PolicyIssue::message, HasSubstr(message_part)));
}

constexpr char kGood[] = R"pb(
  permissions { name: "mes.work_order:release" description: "release" }
  permissions { name: "mes.work_order:view" }
  roles { name: "viewer" permissions: "mes.work_order:view" }
  roles {
    name: "lead"
    permissions: "mes.work_order:release"
    inherits: "viewer"
  }
  scopes { path: "site/sz" }
  scopes { path: "site/sz/line/3" }
)pb";

TEST(ValidatePolicyTest, AcceptsAValidDocument) {
  EXPECT_THAT(ValidatePolicy(Parse(kGood)), IsEmpty());
}

TEST(ValidatePolicyTest, AcceptsAnEmptyDocument) {
  EXPECT_THAT(ValidatePolicy(iam::v1::PolicyDocument()), IsEmpty());
}

TEST(ValidatePolicyTest, ReportsBadNamesOnTheirField) {
  auto issues = ValidatePolicy(Parse(R"pb(
    permissions { name: "Bad" }
    roles { name: "9role" }
    scopes { path: "plant/x" }
  )pb"));
  EXPECT_THAT(issues,
              ElementsAre(IssueAt("permission", 0, "name", -1, "<system>"),
                          IssueAt("role", 0, "name", -1, "starting with a letter"),
                          IssueAt("scope", 0, "path", -1, "site/")));
  EXPECT_EQ(issues[0].name, "Bad");
}

TEST(ValidatePolicyTest, ReportsDuplicatesPointingAtTheFirst) {
  auto issues = ValidatePolicy(Parse(R"pb(
    permissions { name: "a.b:c" }
    permissions { name: "a.b:c" }
    roles { name: "r" }
    roles { name: "r" }
    scopes { path: "site/sz" }
    scopes { path: "site/sz" }
  )pb"));
  EXPECT_THAT(issues,
              ElementsAre(IssueAt("permission", 1, "name", -1, "permissions[0]"),
                          IssueAt("role", 1, "name", -1, "roles[0]"),
                          IssueAt("scope", 1, "path", -1, "scopes[0]")));
}

TEST(ValidatePolicyTest, ReportsUndeclaredAndRepeatedRoleEntries) {
  auto issues = ValidatePolicy(Parse(R"pb(
    permissions { name: "a.b:c" }
    roles {
      name: "r"
      permissions: "a.b:c"
      permissions: "a.b:missing"
      permissions: "a.b:c"
      inherits: "ghost"
    }
  )pb"));
  EXPECT_THAT(issues,
              ElementsAre(IssueAt("role", 0, "permissions", 1, "not declared"),
                          IssueAt("role", 0, "permissions", 2, "listed twice"),
                          IssueAt("role", 0, "inherits", 0, "not declared")));
}

TEST(ValidatePolicyTest, ReportsEachCycleOnceWithItsPath) {
  auto issues = ValidatePolicy(Parse(R"pb(
    roles { name: "a" inherits: "b" }
    roles { name: "b" inherits: "c" }
    roles { name: "c" inherits: "a" }
    roles { name: "self" inherits: "self" }
    roles { name: "ok" inherits: "a" }
  )pb"));
  ASSERT_THAT(issues, SizeIs(2));
  EXPECT_THAT(issues[0], IssueAt("role", 2, "inherits", 0, "a -> b -> c -> a"));
  EXPECT_EQ(issues[0].name, "c");
  EXPECT_THAT(issues[1], IssueAt("role", 3, "inherits", 0, "self -> self"));
}

TEST(ValidatePolicyTest, ReportsScopesWithoutDeclaredParent) {
  auto issues = ValidatePolicy(Parse(R"pb(
    scopes { path: "site/sz/line/3" }
    scopes { path: "site/bj" }
    scopes { path: "/" }
  )pb"));
  EXPECT_THAT(issues,
              ElementsAre(IssueAt("scope", 0, "path", -1, "\"site/sz\" is not declared"),
                          IssueAt("scope", 2, "path", -1, "root")));
}

TEST(ValidatePolicyTest, AllowsEmptyDescriptionsButBoundsLongOnes) {
  iam::v1::PolicyDocument doc = Parse(kGood);
  doc.mutable_permissions(0)->set_description(std::string(2000, 'x'));
  EXPECT_THAT(ValidatePolicy(doc),
              ElementsAre(IssueAt("permission", 0, "description", -1, "2000")));
}

TEST(ValidatePolicyTest, ReportsUnknownEnumValues) {
  iam::v1::PolicyDocument doc = Parse(kGood);
  doc.mutable_permissions(1)->set_audit_mode(static_cast<iam::v1::AuditMode>(42));
  doc.mutable_roles(0)->add_requires(iam::v1::PREREQUISITE_UNSPECIFIED);
  EXPECT_THAT(ValidatePolicy(doc),
              ElementsAre(IssueAt("permission", 1, "audit_mode", -1, "42"),
                          IssueAt("role", 0, "requires", 0, "prerequisite")));
}

TEST(FormatIssueTest, NamesObjectFieldAndIndex) {
  PolicyIssue issue{"role", 3, "line_lead", "inherits", 1, "boom"};
  EXPECT_EQ(FormatIssue(issue), "roles[3] \"line_lead\" inherits[1]: boom");
}

}  // namespace
}  // namespace iam::authz
