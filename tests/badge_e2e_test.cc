// End-to-end: badges and door admission against a real iamd over gRPC, as a
// security officer, HR and a door controller would drive it.
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/badge.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "services/badge/list_signer.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

using iam::v1::BadgeService;

constexpr char kDoor[] = "sz-burning-main";
constexpr char kController[] = "door-ctl-1";

class BadgeEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = IamdProcess::Start(NewTempDir("badge_e2e"));
    ASSERT_TRUE(started.ok()) << started.status();
    iamd_ = std::move(*started);
    authz_ = iam::v1::AuthzService::NewStub(iamd_->channel());
    identity_ = iam::v1::IdentityService::NewStub(iamd_->channel());
    badge_ = BadgeService::NewStub(iamd_->channel());
    ASSERT_TRUE(CreatePerson("p-1").ok());
    ASSERT_TRUE(CreatePerson(kController).ok());
    // burning_lead's access level has no schedule: the test runs at any hour.
    ASSERT_TRUE(Bind("p-1", "burning_lead", "site/sz/area/burning").ok());
    ASSERT_TRUE(Bind(kController, "door_controller", "/").ok());
  }

  grpc::Status CreatePerson(const std::string& id) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CreatePersonRequest req;
    req.mutable_person()->set_id(id);
    req.mutable_person()->set_display_name("Person " + id);
    req.mutable_person()->set_org_unit("ou/production/burning");
    req.mutable_person()->set_job_code("BURNING_LEAD");
    req.mutable_person()->set_site("sz");
    req.mutable_person()->set_status(iam::v1::PERSON_STATUS_ACTIVE);
    req.set_reason("HR-1");
    iam::v1::CreatePersonResponse resp;
    return identity_->CreatePerson(&ctx, req, &resp);
  }

  grpc::Status SetStatus(const std::string& id, iam::v1::PersonStatus status) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::UpdatePersonRequest req;
    req.mutable_person()->set_id(id);
    req.mutable_person()->set_status(status);
    req.add_update_mask("status");
    req.set_reason("SEC-7");
    iam::v1::UpdatePersonResponse resp;
    return identity_->UpdatePerson(&ctx, req, &resp);
  }

  grpc::Status Bind(const std::string& person, const std::string& role,
                    const std::string& scope) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CreateBindingRequest req;
    req.mutable_binding()->mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
    req.mutable_binding()->mutable_subject()->set_id(person);
    req.mutable_binding()->set_role(role);
    req.mutable_binding()->set_scope(scope);
    req.mutable_binding()->set_reason("CHG-1");
    iam::v1::CreateBindingResponse resp;
    return authz_->CreateBinding(&ctx, req, &resp);
  }

  grpc::Status Issue(const std::string& caller, const std::string& person,
                     const std::string& card, iam::v1::BadgeResponse* resp) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, caller);
    iam::v1::IssueBadgeRequest req;
    req.set_person_id(person);
    req.set_card_number(card);
    req.set_expires_at_unix(absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 365)));
    req.set_reason("SEC-100");
    return badge_->IssueBadge(&ctx, req, resp);
  }

  iam::v1::AdmitResponse Admit(const std::string& card, iam::v1::Direction direction,
                               const std::string& door = kDoor) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, kController);
    iam::v1::AdmitRequest req;
    req.set_door_id(door);
    req.set_card_number(card);
    req.set_direction(direction);
    req.set_presented_at_unix_micros(absl::ToUnixMicros(absl::Now()));
    iam::v1::AdmitResponse resp;
    grpc::Status s = badge_->Admit(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  iam::v1::DoorListPayload Pull(const iam::v1::DoorListPayload* since) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, kController);
    iam::v1::SignedDoorList list;
    grpc::Status s;
    if (since == nullptr) {
      iam::v1::GetDoorListRequest req;
      req.set_door_id(kDoor);
      s = badge_->GetDoorList(&ctx, req, &list);
    } else {
      iam::v1::GetDoorListDeltaRequest req;
      req.set_door_id(kDoor);
      req.set_epoch(since->epoch());
      req.set_since_version(since->version());
      s = badge_->GetDoorListDelta(&ctx, req, &list);
    }
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(badge::VerifySignature(list.public_key(), list.payload(),
                                       list.signature()).ok());
    iam::v1::DoorListPayload payload;
    EXPECT_TRUE(payload.ParseFromString(list.payload()));
    return payload;
  }

  std::unique_ptr<IamdProcess> iamd_;
  std::unique_ptr<iam::v1::AuthzService::Stub> authz_;
  std::unique_ptr<iam::v1::IdentityService::Stub> identity_;
  std::unique_ptr<BadgeService::Stub> badge_;
};

TEST_F(BadgeEndToEndTest, IssueAdmitAuditAndRevokeOverGrpc) {
  iam::v1::BadgeResponse issued;
  grpc::Status s = Issue("admin", "p-1", "04a1b2c3d4e5f6", &issued);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(issued.badge().card_number(), "04A1B2C3D4E5F6");

  iam::v1::AdmitResponse in = Admit("04A1B2C3D4E5F6", iam::v1::DIRECTION_ENTRY);
  EXPECT_TRUE(in.admitted()) << in.reason();
  EXPECT_EQ(in.person_id(), "p-1");
  EXPECT_EQ(in.area_id(), "sz-burning");
  EXPECT_GT(in.audit_sequence(), 0);
  // Hard anti-passback in the sample policy.
  EXPECT_FALSE(Admit("04A1B2C3D4E5F6", iam::v1::DIRECTION_ENTRY).admitted());
  EXPECT_TRUE(Admit("04A1B2C3D4E5F6", iam::v1::DIRECTION_EXIT).admitted());

  // The durable audit record is in the area's log.
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::AreaLogRequest req;
    req.set_area_id("sz-burning");
    iam::v1::AreaLogResponse log;
    ASSERT_TRUE(badge_->AreaLog(&ctx, req, &log).ok());
    ASSERT_EQ(log.records_size(), 3);
    EXPECT_EQ(log.records(0).sequence(), in.audit_sequence());
    EXPECT_EQ(log.records(0).person_id(), "p-1");
    EXPECT_EQ(log.records(0).outcome(), iam::v1::AUDIT_OUTCOME_SUCCESS);
    EXPECT_EQ(log.records(1).outcome(), iam::v1::AUDIT_OUTCOME_DENIED);
  }

  // Suspension in identity denies at once.
  ASSERT_TRUE(SetStatus("p-1", iam::v1::PERSON_STATUS_SUSPENDED).ok());
  iam::v1::AdmitResponse suspended = Admit("04A1B2C3D4E5F6", iam::v1::DIRECTION_ENTRY);
  EXPECT_FALSE(suspended.admitted());
  EXPECT_NE(suspended.reason().find("suspended"), std::string::npos) << suspended.reason();
  ASSERT_TRUE(SetStatus("p-1", iam::v1::PERSON_STATUS_ACTIVE).ok());

  // HR Leave: RevokeBadgesOf, final.
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::PersonBadgesRequest req;
    req.set_person_id("p-1");
    req.set_reason("HR leave");
    iam::v1::PersonBadgesResponse resp;
    ASSERT_TRUE(badge_->RevokeBadgesOf(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.badges_size(), 1);
    EXPECT_EQ(resp.badges(0).state(), iam::v1::BADGE_STATE_REVOKED);
  }
  iam::v1::AdmitResponse revoked = Admit("04A1B2C3D4E5F6", iam::v1::DIRECTION_ENTRY);
  EXPECT_FALSE(revoked.admitted());
  EXPECT_NE(revoked.reason().find("revoked"), std::string::npos) << revoked.reason();
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::BadgeChangeRequest req;
    req.set_badge_id(issued.badge().id());
    req.set_reason("try");
    iam::v1::BadgeResponse resp;
    EXPECT_EQ(badge_->ResumeBadge(&ctx, req, &resp).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
}

TEST_F(BadgeEndToEndTest, OfflineListThenDeltaWithTheRevocation) {
  iam::v1::BadgeResponse issued;
  ASSERT_TRUE(Issue("admin", "p-1", "AAAAAAAA", &issued).ok());
  iam::v1::DoorListPayload full = Pull(nullptr);
  EXPECT_TRUE(full.full());
  ASSERT_EQ(full.entries_size(), 1);
  EXPECT_EQ(full.entries(0).person_id(), "p-1");
  EXPECT_EQ(full.area().id(), "sz-burning");

  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin");
  iam::v1::BadgeChangeRequest req;
  req.set_badge_id(issued.badge().id());
  req.set_reason("lost on the bus");
  iam::v1::BadgeResponse lost;
  ASSERT_TRUE(badge_->ReportBadgeLost(&ctx, req, &lost).ok());
  EXPECT_EQ(lost.badge().state(), iam::v1::BADGE_STATE_LOST);

  iam::v1::DoorListPayload delta = Pull(&full);
  EXPECT_FALSE(delta.full());
  ASSERT_EQ(delta.removed_card_numbers_size(), 1);
  EXPECT_EQ(delta.removed_card_numbers(0), "AAAAAAAA");
}

TEST_F(BadgeEndToEndTest, BadInputAndMissingPermissionsChangeNothing) {
  iam::v1::BadgeResponse resp;
  EXPECT_EQ(Issue("admin", "p-1", "not-a-card", &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Issue("admin", "p-nobody", "AAAAAAAA", &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // A door controller cannot issue badges; an admin is not a door.
  EXPECT_EQ(Issue(kController, "p-1", "AAAAAAAA", &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::AdmitRequest req;
    req.set_door_id(kDoor);
    iam::v1::AdmitResponse admit;
    EXPECT_EQ(badge_->Admit(&ctx, req, &admit).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::ListBadgesRequest req;
    iam::v1::ListBadgesResponse list;
    ASSERT_TRUE(badge_->ListBadges(&ctx, req, &list).ok());
    EXPECT_EQ(list.badges_size(), 0);
  }
  EXPECT_FALSE(Admit("AAAAAAAA", iam::v1::DIRECTION_ENTRY, "no-such-door").admitted());
  iam::v1::AdmitResponse unknown = Admit("AAAAAAAA", iam::v1::DIRECTION_ENTRY);
  EXPECT_FALSE(unknown.admitted());
  EXPECT_NE(unknown.reason().find("unknown card"), std::string::npos);
}

TEST_F(BadgeEndToEndTest, WhoCanEnterFollowsGrants) {
  iam::v1::BadgeResponse issued;
  ASSERT_TRUE(Issue("admin", "p-1", "AAAAAAAA", &issued).ok());
  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin");
  iam::v1::WhoCanEnterRequest req;
  req.set_area_id("sz-burning");
  iam::v1::WhoCanEnterResponse resp;
  ASSERT_TRUE(badge_->WhoCanEnter(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.entries_size(), 1);
  // burning_lead inherits burning_technician: both levels match.
  ASSERT_EQ(resp.entries(0).access_levels_size(), 2);
  EXPECT_EQ(resp.entries(0).access_levels(0), "burning-shifts");
  EXPECT_EQ(resp.entries(0).access_levels(1), "burning-leads");
  // Not bound in Huizhou: nobody there.
  grpc::ClientContext other;
  PrepareContext(&other, "admin");
  req.set_area_id("hz-burning");
  iam::v1::WhoCanEnterResponse hz;
  ASSERT_TRUE(badge_->WhoCanEnter(&other, req, &hz).ok());
  EXPECT_EQ(hz.entries_size(), 0);
}

}  // namespace
}  // namespace iam::testing
