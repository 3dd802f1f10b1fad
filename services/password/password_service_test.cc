// PasswordService over real in-process gRPC, with an audit log that holds
// each synced record until the test releases it: a login is answered only
// once its record is durable, a login whose record cannot be written is
// refused, and the hashing worker does not wait for the disk meanwhile.
#include "services/password/password_service.h"

#include <grpcpp/grpcpp.h>

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/iam/v1/password.grpc.pb.h"
#include "services/audit/audit_log.h"
#include "services/common/caller.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"
#include "services/password/fake_person_directory.h"
#include "services/password/password_manager.h"

namespace iam::password {
namespace {

using iam::v1::AuditRecord;
using ::testing::HasSubstr;

// An AuditLog whose synced appends wait until the test releases them, each
// with the outcome the test picks. Buffered records are kept as they come.
class HeldAuditLog final : public audit::AuditLog {
 public:
  using AuditLog::AppendThen;
  void AppendThen(AuditRecord record, WriteBatch /*with*/,
                  audit::AppendCallback done) override {
    absl::MutexLock lock(&mu_);
    held_.push_back({std::move(record), std::move(done)});
  }
  void AppendChangeThen(AuditRecord, WriteBatch, audit::ChangeCallback done) override {
    done(absl::UnimplementedError("not in this test"));
  }
  void AppendAsync(AuditRecord record) override {
    absl::MutexLock lock(&mu_);
    buffered_.push_back(std::move(record));
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::StatusOr<iam::v1::QueryAuditResponse> Query(
      const iam::v1::QueryAuditRequest&) const override {
    return absl::UnimplementedError("not in this test");
  }

  // Waits (up to 10 s) until `n` synced appends are held.
  bool AwaitHeld(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return held_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
  }
  AuditRecord HeldRecord(size_t i) {
    absl::MutexLock lock(&mu_);
    return held_.at(i).first;
  }
  // Completes the oldest held append with `outcome` (a sequence or an error).
  void ReleaseOldest(absl::StatusOr<int64_t> outcome) {
    audit::AppendCallback done;
    {
      absl::MutexLock lock(&mu_);
      done = std::move(held_.front().second);
      held_.pop_front();
    }
    done(std::move(outcome));
  }

 private:
  mutable absl::Mutex mu_;
  std::deque<std::pair<AuditRecord, audit::AppendCallback>> held_ ABSL_GUARDED_BY(mu_);
  std::vector<AuditRecord> buffered_ ABSL_GUARDED_BY(mu_);
};

class AllowAll final : public Authorizer {
 public:
  absl::Status Require(absl::string_view, absl::string_view) override {
    return absl::OkStatus();
  }
};

constexpr char kRight[] = "lathe coolant smells of pears";

// A login running on its own thread, whose answer the test can wait for.
struct Login {
  std::thread thread;
  absl::Notification answered;
  grpc::Status status;
  iam::v1::AuthenticateResponse response;
};

class PasswordServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_.Put("p-1", "Li Wei", iam::v1::PERSON_STATUS_ACTIVE);
    directory_.Put("p-2", "Anna Berg", iam::v1::PERSON_STATUS_ACTIVE);
    auto opened = PasswordManager::Open(&store_, &clock_, {});
    ASSERT_TRUE(opened.ok()) << opened.status();
    manager_ = std::move(*opened);
    manager_->set_directory(&directory_);
    iam::v1::PasswordPolicy policy;
    policy.mutable_argon2()->set_memory_kib(7168);
    policy.mutable_argon2()->set_iterations(1);
    ASSERT_TRUE(manager_->SetPolicy(policy).ok());
    for (const char* id : {"p-1", "p-2"}) {
      ASSERT_TRUE(manager_->SetInitialPassword(id, "first of many passwords", "admin").ok());
      auto changed =
          manager_->ChangePassword(id, "first of many passwords", kRight, "10.0.0.9");
      ASSERT_TRUE(changed.ok() && changed->result == iam::v1::AUTH_RESULT_OK);
    }
    PasswordServiceImpl::Options options;
    options.hash_threads = 1;
    service_ = std::make_unique<PasswordServiceImpl>(manager_.get(), &authorizer_,
                                                     &audit_log_, CallerConfig{}, options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = iam::v1::PasswordService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  void Start(Login* login, const std::string& id, const std::string& password) {
    login->thread = std::thread([this, login, id, password] {
      grpc::ClientContext context;
      context.AddMetadata(kCallerHeader, "svc:mes");
      iam::v1::AuthenticateRequest request;
      request.set_person_id(id);
      request.set_password(password);
      request.set_source("10.0.0.1");
      login->status = stub_->Authenticate(&context, request, &login->response);
      login->answered.Notify();
    });
  }

  MemoryStore store_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  FakePersonDirectory directory_;
  AllowAll authorizer_;
  HeldAuditLog audit_log_;
  std::unique_ptr<PasswordManager> manager_;
  std::unique_ptr<PasswordServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<iam::v1::PasswordService::Stub> stub_;
};

TEST_F(PasswordServiceTest, ALoginIsAnsweredOnlyOnceItsRecordIsSynced) {
  Login right;
  Login wrong;
  Start(&right, "p-1", kRight);
  ASSERT_TRUE(audit_log_.AwaitHeld(1));
  Start(&wrong, "p-2", "not the password at all");
  // One hashing worker: it hashed the second login while the first one's
  // record was still waiting for the disk.
  ASSERT_TRUE(audit_log_.AwaitHeld(2));
  EXPECT_FALSE(right.answered.WaitForNotificationWithTimeout(absl::Milliseconds(100)));
  EXPECT_FALSE(wrong.answered.HasBeenNotified());

  const AuditRecord first = audit_log_.HeldRecord(0);
  EXPECT_EQ(first.person_id(), "p-1");
  EXPECT_EQ(first.outcome(), iam::v1::AUDIT_OUTCOME_SUCCESS);
  const AuditRecord second = audit_log_.HeldRecord(1);
  EXPECT_EQ(second.person_id(), "p-2");
  EXPECT_EQ(second.outcome(), iam::v1::AUDIT_OUTCOME_DENIED);
  EXPECT_THAT(second.DebugString(), ::testing::Not(HasSubstr("not the password")));

  audit_log_.ReleaseOldest(int64_t{41});
  ASSERT_TRUE(right.answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(right.status.ok()) << right.status.error_message();
  EXPECT_EQ(right.response.result(), iam::v1::AUTH_RESULT_OK);
  EXPECT_FALSE(wrong.answered.HasBeenNotified());

  audit_log_.ReleaseOldest(int64_t{42});
  ASSERT_TRUE(wrong.answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(wrong.status.ok()) << wrong.status.error_message();
  EXPECT_EQ(wrong.response.result(), iam::v1::AUTH_RESULT_BAD_CREDENTIALS);
  right.thread.join();
  wrong.thread.join();
}

TEST_F(PasswordServiceTest, ALoginWhoseRecordCannotBeWrittenIsRefused) {
  Login login;
  Start(&login, "p-1", kRight);
  ASSERT_TRUE(audit_log_.AwaitHeld(1));
  audit_log_.ReleaseOldest(absl::ResourceExhaustedError("injected: disk full"));
  ASSERT_TRUE(login.answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(login.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(login.status.error_message(),
              HasSubstr("the login could not be audited, so it is refused"));
  EXPECT_EQ(login.response.result(), iam::v1::AUTH_RESULT_UNSPECIFIED);
  login.thread.join();
}

}  // namespace
}  // namespace iam::password
