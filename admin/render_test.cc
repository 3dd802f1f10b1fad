#include "admin/render.h"

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace iam::admin {
namespace {

template <typename T>
T FromText(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

TEST(ToJsonTest, UsesProtoFieldNamesPrintsZeroValuesAndEndsTheLine) {
  auto response = FromText<iam::v1::CheckResponse>(R"pb(reason: "no binding"
                                                        revision: 7)pb");
  EXPECT_EQ(ToJson(response),
            "{\"allowed\":false,\"reason\":\"no binding\",\"binding_id\":\"\","
            "\"role_path\":[],\"revision\":\"7\"}\n");
}

TEST(RenderCheckTest, ShowsAllowWithBindingAndRolePath) {
  auto response = FromText<iam::v1::CheckResponse>(R"pb(
    allowed: true
    reason: "granted by binding b-9"
    binding_id: "b-9"
    role_path: [ "line_lead", "line_operator" ]
    revision: 42
  )pb");
  EXPECT_EQ(RenderCheck(response),
            "ALLOW\n"
            "reason:     granted by binding b-9\n"
            "binding:    b-9\n"
            "role path:  line_lead -> line_operator\n"
            "revision:   42\n");
}

TEST(RenderCheckTest, ShowsDenyWithReason) {
  auto response =
      FromText<iam::v1::CheckResponse>(R"pb(reason: "person p-1 is suspended"
                                            revision: 43)pb");
  EXPECT_EQ(RenderCheck(response),
            "DENY\n"
            "reason:     person p-1 is suspended\n"
            "binding:    -\n"
            "role path:  -\n"
            "revision:   43\n");
}

TEST(GrantedPermissionsTableTest, ShowsSourceAndExpiry) {
  auto response = FromText<iam::v1::ListPermissionsResponse>(R"pb(
    permissions {
      permission: "mes.work_order:release"
      scope: "site/sz"
      binding_id: "b-1"
      role_path: [ "line_lead" ]
    }
    permissions {
      permission: "burning.firmware:flash"
      scope: "site/sz/area/burning"
      binding_id: "b-2"
      role_path: [ "burning_technician" ]
      expires_at_unix: 1798740000
    }
  )pb");
  EXPECT_EQ(GrantedPermissionsTable(response).ToString(),
            "PERMISSION              SCOPE                 BINDING  ROLE PATH  "
            "         EXPIRES\n"
            "mes.work_order:release  site/sz               b-1      line_lead  "
            "         never\n"
            "burning.firmware:flash  site/sz/area/burning  b-2      "
            "burning_technician  "
            "2026-12-31T18:00:00Z\n");
}

TEST(RenderPersonTest, ShowsEveryField) {
  auto person = FromText<iam::v1::Person>(R"pb(
    id: "p-004711"
    display_name: "张伟"
    org_unit: "ou/production/smt"
    job_code: "LINE_OPERATOR"
    site: "sz"
    status: PERSON_STATUS_ACTIVE
    groups: [ "smt", "night-shift" ]
    attestations {
      type: ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED
      recorded_at_unix: 1767225600
      recorded_by: "hr-1"
    }
    revision: 12
  )pb");
  EXPECT_EQ(RenderPerson(person),
            "id:            p-004711\n"
            "name:          张伟\n"
            "status:        active\n"
            "org unit:      ou/production/smt\n"
            "job:           LINE_OPERATOR\n"
            "site:          sz\n"
            "manager:       -\n"
            "groups:        smt\n"
            "               night-shift\n"
            "attestations:  security-agreement (2026-01-01T00:00:00Z by hr-1)\n"
            "revision:      12\n");
}

TEST(PeopleTableTest, OneRowPerPerson) {
  auto response = FromText<iam::v1::ListPeopleResponse>(R"pb(
    people {
      id: "p-1"
      display_name: "Ann Lee"
      org_unit: "ou/qa"
      job_code: "QA"
      site: "sz"
      manager_id: "p-9"
      status: PERSON_STATUS_PENDING
    }
  )pb");
  EXPECT_EQ(PeopleTable(response.people()).ToString(),
            "ID   NAME     ORG UNIT  JOB  SITE  MANAGER  STATUS\n"
            "p-1  Ann Lee  ou/qa     QA   sz    p-9      pending\n");
}

TEST(BindingsTableTest, ShowsSubjectKindAndExpiry) {
  auto response = FromText<iam::v1::ListBindingsResponse>(R"pb(
    bindings {
      id: "b-1"
      subject { kind: SUBJECT_KIND_GROUP id: "smt-leads" }
      role: "line_lead"
      scope: "site/sz/line/3"
      created_by: "admin"
      reason: "CHG-1"
    }
    bindings {
      id: "b-2"
      subject { kind: SUBJECT_KIND_PERSON id: "p-1" }
      role: "burning_technician"
      scope: "/"
      expires_at_unix: 1798740000
      created_by: "admin"
      reason: "cover"
    }
  )pb");
  EXPECT_EQ(BindingsTable(response.bindings()).ToString(),
            "ID   SUBJECT          ROLE                SCOPE           EXPIRES "
            "              CREATED BY  REASON\n"
            "b-1  group:smt-leads  line_lead           site/sz/line/3  never   "
            "              admin       CHG-1\n"
            "b-2  person:p-1       burning_technician  /               "
            "2026-12-31T18:00:00Z  admin       cover\n");
}

TEST(RenderCreatedBindingTest, ShowsIdAndRevision) {
  auto response = FromText<iam::v1::CreateBindingResponse>(R"pb(
    binding {
      id: "b-77"
      subject { kind: SUBJECT_KIND_PERSON id: "p-1" }
      role: "auditor"
      scope: "/"
    }
    revision: 101
  )pb");
  EXPECT_EQ(RenderCreatedBinding(response),
            "binding:   b-77\n"
            "subject:   person:p-1\n"
            "role:      auditor\n"
            "scope:     /\n"
            "expires:   never\n"
            "revision:  101\n");
}

const char kPolicy[] = R"pb(
  permissions { name: "mes.work_order:release" description: "release orders" }
  permissions { name: "mes.line:view" }
  permissions { name: "burning.firmware:flash" }
  roles {
    name: "line_operator"
    permissions: [ "mes.line:view" ]
  }
  roles {
    name: "line_lead"
    description: "leads a line"
    permissions: [ "mes.work_order:release" ]
    inherits: [ "line_operator" ]
  }
  roles {
    name: "loop_a"
    permissions: [ "burning.firmware:flash" ]
    inherits: [ "loop_b" ]
  }
  roles {
    name: "loop_b"
    inherits: [ "loop_a", "missing" ]
  }
  scopes { path: "site/sz/line/3" }
  scopes { path: "site/sz" description: "Shenzhen" }
)pb";

TEST(PolicyTablesTest, SortByName) {
  auto policy = FromText<iam::v1::PolicyDocument>(kPolicy);
  EXPECT_EQ(RolesTable(policy).ToString(),
            "NAME           INHERITS        PERMISSIONS  DESCRIPTION\n"
            "line_lead      line_operator   1            leads a line\n"
            "line_operator  -               1            -\n"
            "loop_a         loop_b          1            -\n"
            "loop_b         loop_a,missing  0            -\n");
  EXPECT_EQ(PermissionsTable(policy).ToString(),
            "NAME                    DESCRIPTION\n"
            "burning.firmware:flash  -\n"
            "mes.line:view           -\n"
            "mes.work_order:release  release orders\n");
  EXPECT_EQ(ScopesTable(policy).ToString(),
            "PATH            DESCRIPTION\n"
            "site/sz         Shenzhen\n"
            "site/sz/line/3  -\n");
}

TEST(EffectivePermissionsTest, FollowsInheritanceAndSurvivesCycles) {
  auto policy = FromText<iam::v1::PolicyDocument>(kPolicy);
  EXPECT_EQ(
      EffectivePermissions(policy, "line_lead"),
      (std::vector<std::string>{"mes.line:view", "mes.work_order:release"}));
  EXPECT_EQ(EffectivePermissions(policy, "loop_b"),
            (std::vector<std::string>{"burning.firmware:flash"}));
  EXPECT_TRUE(EffectivePermissions(policy, "nobody").empty());
}

TEST(RenderRoleTest, ShowsDirectAndEffectivePermissions) {
  auto policy = FromText<iam::v1::PolicyDocument>(kPolicy);
  EXPECT_EQ(RenderRole(policy.roles(1), policy, 5),
            "name:         line_lead\n"
            "description:  leads a line\n"
            "inherits:     line_operator\n"
            "permissions:  mes.work_order:release\n"
            "effective:    mes.line:view\n"
            "              mes.work_order:release\n"
            "revision:     5\n");
}

TEST(AuditTableTest, PrintsTimesInUtcAndOutcomesAsWords) {
  auto response = FromText<iam::v1::QueryAuditResponse>(R"pb(
    records {
      sequence: 1
      time_unix_micros: 1767225600000001
      caller: "admin"
      action: "authz.binding.create"
      target: "b-1"
      outcome: AUDIT_OUTCOME_SUCCESS
      reason: "CHG-1"
      revision: 3
    }
    records {
      sequence: 2
      time_unix_micros: 1767225660000000
      caller: "mes"
      action: "authz.check"
      outcome: AUDIT_OUTCOME_DENIED
      reason: "no binding"
    }
  )pb");
  EXPECT_EQ(AuditTable(response.records()).ToString(),
            "SEQ  TIME                  CALLER  ACTION                TARGET  "
            "OUTCOME  "
            "REVISION  REASON\n"
            "1    2026-01-01T00:00:00Z  admin   authz.binding.create  b-1     "
            "success  "
            "3         CHG-1\n"
            "2    2026-01-01T00:01:00Z  mes     authz.check           -       "
            "denied   "
            "-         no binding\n");
}

TEST(RenderPolicyDiffTest, MarksAddRemoveChange) {
  auto response = FromText<iam::v1::ApplyPolicyResponse>(R"pb(
    changes { kind: KIND_ADD object_type: "role" name: "auditor" }
    changes { kind: KIND_REMOVE object_type: "permission" name: "mes.old:use" }
    changes {
      kind: KIND_CHANGE
      object_type: "role"
      name: "line_lead"
      detail: "permissions +mes.line:stop"
    }
  )pb");
  EXPECT_EQ(RenderPolicyDiff(response.changes()),
            "+ role auditor\n"
            "- permission mes.old:use\n"
            "~ role line_lead: permissions +mes.line:stop\n");
  EXPECT_EQ(RenderPolicyDiff({}), "no changes\n");
}

}  // namespace
}  // namespace iam::admin
