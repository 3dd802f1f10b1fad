// iamctl end to end: the dispatcher, the commands and the real gRPC client
// against fake services listening on a loopback port (port 0).
#include "admin/cli.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "admin/exit_codes.h"
#include "gmock/gmock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"
#include "gtest/gtest.h"
#include "proto/iam/v1/audit.grpc.pb.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"

namespace iam::admin {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const absl::Time kNow =
    absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

// What the fakes saw; guarded because handlers run on server threads.
struct Recorder {
  absl::Mutex mu;
  // The x-iam-caller header of each call, "<none>" if absent.
  std::vector<std::string> callers ABSL_GUARDED_BY(mu);
  // The client certificate's CN of each call, "<none>" if absent.
  std::vector<std::string> common_names ABSL_GUARDED_BY(mu);

  void Record(grpc::ServerContext* context) {
    absl::MutexLock lock(&mu);
    const auto& metadata = context->client_metadata();
    auto it = metadata.find("x-iam-caller");
    callers.push_back(it == metadata.end()
                          ? "<none>"
                          : std::string(it->second.data(), it->second.size()));
    std::vector<grpc::string_ref> names;
    if (auto auth = context->auth_context()) {
      names = auth->FindPropertyValues("x509_common_name");
    }
    common_names.push_back(names.empty() ? "<none>"
                                         : std::string(names.front().data(),
                                                       names.front().size()));
  }
};

class FakeAuthz final : public iam::v1::AuthzService::Service {
 public:
  explicit FakeAuthz(Recorder* recorder) : recorder_(recorder) {}

  grpc::Status Check(grpc::ServerContext* context,
                     const iam::v1::CheckRequest* request,
                     iam::v1::CheckResponse* response) override {
    recorder_->Record(context);
    absl::MutexLock lock(&mu_);
    last_check = *request;
    if (!check_status.ok()) return check_status;
    *response = check_response;
    return grpc::Status::OK;
  }

  grpc::Status CreateBinding(
      grpc::ServerContext* context,
      const iam::v1::CreateBindingRequest* request,
      iam::v1::CreateBindingResponse* response) override {
    recorder_->Record(context);
    absl::MutexLock lock(&mu_);
    last_binding = *request;
    *response->mutable_binding() = request->binding();
    response->mutable_binding()->set_id("b-77");
    response->set_revision(101);
    return grpc::Status::OK;
  }

  grpc::Status DeleteBinding(grpc::ServerContext* context,
                             const iam::v1::DeleteRequest* request,
                             iam::v1::WriteResponse* response) override {
    recorder_->Record(context);
    absl::MutexLock lock(&mu_);
    deleted.push_back(request->name());
    response->set_revision(102);
    return grpc::Status::OK;
  }

  grpc::Status GetPolicy(grpc::ServerContext* context,
                         const iam::v1::GetPolicyRequest*,
                         iam::v1::GetPolicyResponse* response) override {
    recorder_->Record(context);
    iam::v1::Role* role = response->mutable_policy()->add_roles();
    role->set_name("line_operator");
    role->add_permissions("mes.line:view");
    response->set_revision(8);
    return grpc::Status::OK;
  }

  grpc::Status ApplyPolicy(grpc::ServerContext* context,
                           const iam::v1::ApplyPolicyRequest* request,
                           iam::v1::ApplyPolicyResponse* response) override {
    recorder_->Record(context);
    absl::MutexLock lock(&mu_);
    applies.push_back(*request);
    for (int i = 0; i < apply_changes; ++i) {
      iam::v1::PolicyChange* change = response->add_changes();
      change->set_kind(iam::v1::PolicyChange::KIND_ADD);
      change->set_object_type("role");
      change->set_name(absl::StrCat("role_", i));
    }
    if (!request->dry_run()) response->set_revision(9);
    return grpc::Status::OK;
  }

  absl::Mutex mu_;
  iam::v1::CheckRequest last_check ABSL_GUARDED_BY(mu_);
  iam::v1::CheckResponse check_response ABSL_GUARDED_BY(mu_);
  grpc::Status check_status ABSL_GUARDED_BY(mu_);
  iam::v1::CreateBindingRequest last_binding ABSL_GUARDED_BY(mu_);
  std::vector<std::string> deleted ABSL_GUARDED_BY(mu_);
  std::vector<iam::v1::ApplyPolicyRequest> applies ABSL_GUARDED_BY(mu_);
  int apply_changes ABSL_GUARDED_BY(mu_) = 2;

 private:
  Recorder* recorder_;
};

class FakeIdentity final : public iam::v1::IdentityService::Service {
 public:
  explicit FakeIdentity(Recorder* recorder) : recorder_(recorder) {}

  grpc::Status UpdatePerson(grpc::ServerContext* context,
                            const iam::v1::UpdatePersonRequest* request,
                            iam::v1::UpdatePersonResponse* response) override {
    recorder_->Record(context);
    absl::MutexLock lock(&mu_);
    last_update = *request;
    *response->mutable_person() = request->person();
    response->set_revision(5);
    return grpc::Status::OK;
  }

  // Three pages of two people: p-1 p-2 | p-3 p-4 | p-5 p-6.
  grpc::Status ListPeople(grpc::ServerContext* context,
                          const iam::v1::ListPeopleRequest* request,
                          iam::v1::ListPeopleResponse* response) override {
    recorder_->Record(context);
    const int page =
        request->page_token().empty() ? 0 : std::stoi(request->page_token());
    for (int i = 1; i <= 2; ++i) {
      response->add_people()->set_id(absl::StrCat("p-", page * 2 + i));
    }
    if (page < 2) response->set_next_page_token(absl::StrCat(page + 1));
    return grpc::Status::OK;
  }

  grpc::Status GetPerson(grpc::ServerContext* context,
                         const iam::v1::GetPersonRequest* request,
                         iam::v1::GetPersonResponse*) override {
    recorder_->Record(context);
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "no person \"" + request->id() + "\"");
  }

  absl::Mutex mu_;
  iam::v1::UpdatePersonRequest last_update ABSL_GUARDED_BY(mu_);

 private:
  Recorder* recorder_;
};

// Records numbered from 1; pages of at most min(page_size, 3); 10 in all.
class FakeAudit final : public iam::v1::AuditService::Service {
 public:
  explicit FakeAudit(Recorder* recorder) : recorder_(recorder) {}

  grpc::Status Query(grpc::ServerContext* context,
                     const iam::v1::QueryAuditRequest* request,
                     iam::v1::QueryAuditResponse* response) override {
    recorder_->Record(context);
    {
      absl::MutexLock lock(&mu_);
      page_sizes.push_back(request->page_size());
    }
    if (request->caller() == "nobody") {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "needs iam.audit:read at /");
    }
    int next =
        request->page_token().empty() ? 1 : std::stoi(request->page_token());
    const int count = std::min(request->page_size(), 3);
    for (int i = 0; i < count && next <= 10; ++i, ++next) {
      iam::v1::AuditRecord* record = response->add_records();
      record->set_sequence(next);
      record->set_action("authz.check");
      record->set_outcome(iam::v1::AUDIT_OUTCOME_SUCCESS);
    }
    if (next <= 10) response->set_next_page_token(absl::StrCat(next));
    return grpc::Status::OK;
  }

  absl::Mutex mu_;
  std::vector<int> page_sizes ABSL_GUARDED_BY(mu_);

 private:
  Recorder* recorder_;
};

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", ServerCredentials(), &port_);
    builder.RegisterService(&authz_);
    builder.RegisterService(&identity_);
    builder.RegisterService(&audit_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }

  void TearDown() override { server_->Shutdown(); }

  virtual std::shared_ptr<grpc::ServerCredentials> ServerCredentials() {
    return grpc::InsecureServerCredentials();
  }

  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }

  // Runs iamctl against the fakes as caller "admin" (unless `as_admin` is
  // false), with `input` on a stdin that is a terminal if `tty`.
  RunResult Run(std::vector<std::string> args, bool as_admin = true,
                const std::string& input = "", bool tty = false) {
    args.insert(args.begin(), {"--server", Address()});
    if (as_admin) args.insert(args.begin(), {"--as", "admin"});
    std::ostringstream out;
    std::ostringstream err;
    std::istringstream in(input);
    CliEnvironment env;
    env.out = &out;
    env.err = &err;
    env.in = &in;
    env.stdin_is_tty = tty;
    env.env = [](absl::string_view) { return absl::nullopt; };
    env.now = [] { return kNow; };
    const int code = RunIamctl(args, env);
    return {code, out.str(), err.str()};
  }

  std::vector<std::string> Callers() {
    absl::MutexLock lock(&recorder_.mu);
    return recorder_.callers;
  }

  std::vector<std::string> CommonNames() {
    absl::MutexLock lock(&recorder_.mu);
    return recorder_.common_names;
  }

  std::string WriteFile(const std::string& name, const std::string& contents) {
    const char* dir = std::getenv("TEST_TMPDIR");
    const std::string path =
        absl::StrCat(dir == nullptr ? "/tmp" : dir, "/", name);
    std::ofstream(path) << contents;
    return path;
  }

  std::string ValidPolicyFile() {
    return WriteFile("valid.textproto", R"pb(
      permissions { name: "mes.line:view" description: "see the line" }
      roles { name: "line_operator" permissions: "mes.line:view" }
      scopes { path: "site/sz" }
    )pb");
  }

  int RealApplies() {
    absl::MutexLock lock(&authz_.mu_);
    int real = 0;
    for (const auto& request : authz_.applies)
      real += request.dry_run() ? 0 : 1;
    return real;
  }

  Recorder recorder_;
  FakeAuthz authz_{&recorder_};
  FakeIdentity identity_{&recorder_};
  FakeAudit audit_{&recorder_};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(CliTest, CheckAllowedPrintsDecisionAndSendsCaller) {
  {
    absl::MutexLock lock(&authz_.mu_);
    authz_.check_response.set_allowed(true);
    authz_.check_response.set_reason("granted");
    authz_.check_response.set_binding_id("b-1");
    authz_.check_response.add_role_path("line_lead");
    authz_.check_response.set_revision(42);
  }
  RunResult result = Run({"check", "p-1", "mes.line:view", "site/sz/line/3"});
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("ALLOW\n"));
  EXPECT_THAT(result.out, HasSubstr("binding:    b-1\n"));
  EXPECT_THAT(result.out, HasSubstr("revision:   42\n"));
  EXPECT_THAT(Callers(), ElementsAre("admin"));
  absl::MutexLock lock(&authz_.mu_);
  EXPECT_EQ(authz_.last_check.person_id(), "p-1");
  EXPECT_EQ(authz_.last_check.permission(), "mes.line:view");
  EXPECT_EQ(authz_.last_check.scope(), "site/sz/line/3");
}

TEST_F(CliTest, CheckDeniedExitsOne) {
  RunResult result = Run({"check", "p-1", "mes.line:view", "/"});
  EXPECT_EQ(result.code, kExitDenied);
  EXPECT_THAT(result.out, HasSubstr("DENY\n"));
}

TEST_F(CliTest, JsonPrintsOneDocumentAndGlobalFlagsMayFollowTheCommand) {
  RunResult result = Run({"check", "p-1", "x:y", "/", "--json"});
  EXPECT_EQ(result.code, kExitDenied);
  EXPECT_EQ(
      result.out,
      "{\"allowed\":false,\"reason\":\"\",\"binding_id\":\"\",\"role_path\":[],"
      "\"revision\":\"0\"}\n");
}

TEST_F(CliTest, ServerErrorsPrintCodeAndMapToExitCodes) {
  {
    absl::MutexLock lock(&authz_.mu_);
    authz_.check_status = grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                       "admin lacks iam.authz:check");
  }
  RunResult denied = Run({"check", "p-1", "x:y", "/"});
  EXPECT_EQ(denied.code, kExitPermission);
  EXPECT_EQ(denied.err,
            "iamctl: PERMISSION_DENIED: admin lacks iam.authz:check\n");

  RunResult missing = Run({"person", "show", "p-404"});
  EXPECT_EQ(missing.code, kExitNotFound);
  EXPECT_EQ(missing.err, "iamctl: NOT_FOUND: no person \"p-404\"\n");
}

TEST_F(CliTest, MissingCallerIsUsageErrorWithoutContactingServer) {
  RunResult result = Run({"check", "p-1", "x:y", "/"}, /*as_admin=*/false);
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_THAT(result.err, HasSubstr("--as ID or set IAM_CALLER"));
  EXPECT_THAT(Callers(), IsEmpty());
}

TEST_F(CliTest, UnreachableServerExitsSix) {
  server_->Shutdown();  // Run() still points at its port.
  RunResult result = Run({"--timeout", "2s", "check", "p", "x:y", "/"});
  EXPECT_EQ(result.code, kExitUnavailable);
  EXPECT_THAT(result.err, HasSubstr("iamctl: UNAVAILABLE: "));
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Run({"check", "p-1"}).code, kExitUsage);
  EXPECT_EQ(Run({"check", "a", "b", "c", "d"}).code, kExitUsage);
  EXPECT_EQ(Run({"frobnicate"}).code, kExitUsage);
  EXPECT_EQ(Run({"person"}).code, kExitUsage);
  EXPECT_EQ(Run({"person", "fire", "p-1"}).code, kExitUsage);
  EXPECT_EQ(Run({"check", "a", "b", "c", "--bogus"}).code, kExitUsage);
  EXPECT_EQ(Run({"bind", "--person", "p", "--role", "r", "--scope", "/"}).code,
            kExitUsage);
  EXPECT_THAT(Callers(), IsEmpty());
}

TEST_F(CliTest, HelpExitsZeroOnStdout) {
  RunResult main_help = Run({"--help"});
  EXPECT_EQ(main_help.code, kExitOk);
  EXPECT_THAT(main_help.out, HasSubstr("exit codes:"));
  EXPECT_THAT(main_help.out, HasSubstr("policy apply"));
  RunResult command_help = Run({"bind", "--help"});
  EXPECT_EQ(command_help.code, kExitOk);
  EXPECT_THAT(command_help.out, HasSubstr("--expires RFC3339"));
  RunResult group_help = Run({"help", "person"});
  EXPECT_EQ(group_help.code, kExitOk);
  EXPECT_THAT(group_help.out, HasSubstr("person update"));
  EXPECT_THAT(Callers(), IsEmpty());
}

TEST_F(CliTest, PersonUpdateSendsExactlyTheGivenFields) {
  RunResult result = Run({"person", "update", "p-1", "--status", "suspended",
                          "--reason", "INC-3"});
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("status:"));
  absl::MutexLock lock(&identity_.mu_);
  EXPECT_THAT(identity_.last_update.update_mask(), ElementsAre("status"));
  EXPECT_EQ(identity_.last_update.person().status(),
            iam::v1::PERSON_STATUS_SUSPENDED);
  EXPECT_EQ(identity_.last_update.reason(), "INC-3");
}

TEST_F(CliTest, PersonListShowsOnePageOrAll) {
  RunResult one = Run({"person", "list"});
  EXPECT_EQ(one.code, kExitOk) << one.err;
  EXPECT_THAT(one.out, HasSubstr("p-2"));
  EXPECT_THAT(one.out, Not(HasSubstr("p-3")));
  EXPECT_THAT(one.err, HasSubstr("--page-token 1"));

  RunResult all = Run({"person", "list", "--all"});
  EXPECT_EQ(all.code, kExitOk) << all.err;
  EXPECT_THAT(all.out, HasSubstr("p-6"));
  EXPECT_EQ(all.err, "");
}

TEST_F(CliTest, BindPrintsIdAndRevisionAndComputesExpiry) {
  RunResult result =
      Run({"bind", "--group", "smt", "--role", "line_lead", "--scope",
           "site/sz/line/3", "--for", "8h", "--reason", "CHG-9"});
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("binding:   b-77\n"));
  EXPECT_THAT(result.out, HasSubstr("expires:   2026-01-01T08:00:00Z\n"));
  EXPECT_THAT(result.out, HasSubstr("revision:  101\n"));
  absl::MutexLock lock(&authz_.mu_);
  EXPECT_EQ(authz_.last_binding.binding().subject().kind(),
            iam::v1::SUBJECT_KIND_GROUP);
  EXPECT_EQ(authz_.last_binding.binding().expires_at_unix(),
            1767225600 + 8 * 3600);
  EXPECT_EQ(authz_.last_binding.binding().reason(), "CHG-9");
}

TEST_F(CliTest, UnbindRequiresReason) {
  EXPECT_EQ(Run({"unbind", "b-1"}).code, kExitUsage);
  RunResult result = Run({"unbind", "b-1", "--reason", "left team"});
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_EQ(result.out, "binding b-1 deleted at revision 102\n");
}

TEST_F(CliTest, RoleShowComesFromPolicyAndSaysWhenMissing) {
  RunResult found = Run({"role", "show", "line_operator"});
  EXPECT_EQ(found.code, kExitOk) << found.err;
  EXPECT_THAT(found.out, HasSubstr("effective:    mes.line:view\n"));
  RunResult missing = Run({"role", "show", "ghost"});
  EXPECT_EQ(missing.code, kExitNotFound);
  EXPECT_EQ(missing.err,
            "iamctl: NOT_FOUND: no role \"ghost\" at revision 8\n");
}

TEST_F(CliTest, AuditQueryFollowsPagesUpToLimit) {
  RunResult result = Run({"audit", "query", "--limit", "7"});
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\n7 "));
  EXPECT_THAT(result.out, Not(HasSubstr("\n8 ")));
  EXPECT_THAT(result.err, HasSubstr("may be more"));
  {
    absl::MutexLock lock(&audit_.mu_);
    EXPECT_THAT(audit_.page_sizes, ElementsAre(7, 4, 1));
  }

  RunResult everything = Run({"audit", "query", "--json"});
  EXPECT_EQ(everything.code, kExitOk);
  EXPECT_THAT(everything.out, HasSubstr("\"sequence\":\"10\""));
  EXPECT_EQ(everything.err, "");

  EXPECT_EQ(Run({"audit", "query", "--caller", "nobody"}).code,
            kExitPermission);
}

TEST_F(CliTest, PolicyLintRunsWithoutServerOrCaller) {
  RunResult ok = Run({"policy", "lint", ValidPolicyFile()}, /*as_admin=*/false);
  EXPECT_EQ(ok.code, kExitOk) << ok.out << ok.err;
  EXPECT_EQ(ok.out, "ok: 1 permissions, 1 roles, 1 scopes\n");

  const std::string bad = WriteFile("bad.textproto", R"pb(
    roles { name: "line_operator" permissions: "mes.line:undeclared" }
  )pb");
  RunResult issues = Run({"policy", "lint", bad}, /*as_admin=*/false);
  EXPECT_EQ(issues.code, kExitInvalid);
  EXPECT_THAT(issues.out, HasSubstr(bad + ":2:"));
  EXPECT_THAT(Callers(), IsEmpty());
}

TEST_F(CliTest, PolicyApplyDryRunOnlyShowsDiff) {
  RunResult result = Run({"policy", "apply", ValidPolicyFile(), "--dry-run"});
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_EQ(result.out, "+ role role_0\n+ role role_1\n");
  EXPECT_EQ(RealApplies(), 0);
}

TEST_F(CliTest, PolicyApplyRefusesWithoutYesWhenStdinIsNotATerminal) {
  RunResult result =
      Run({"policy", "apply", ValidPolicyFile(), "--reason", "CHG-1"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_THAT(result.err, HasSubstr("pass --yes"));
  EXPECT_EQ(RealApplies(), 0);
}

TEST_F(CliTest, PolicyApplyAsksOnTheTerminal) {
  RunResult declined =
      Run({"policy", "apply", ValidPolicyFile(), "--reason", "CHG-1"}, true,
          "n\n", true);
  EXPECT_EQ(declined.code, kExitOk);
  EXPECT_THAT(declined.err, HasSubstr("apply 2 changes? [y/N] "));
  EXPECT_THAT(declined.err, HasSubstr("not applied"));
  EXPECT_EQ(RealApplies(), 0);

  RunResult accepted =
      Run({"policy", "apply", ValidPolicyFile(), "--reason", "CHG-1"}, true,
          "y\n", true);
  EXPECT_EQ(accepted.code, kExitOk) << accepted.err;
  EXPECT_THAT(accepted.out, HasSubstr("applied 2 changes at revision 9\n"));
  EXPECT_EQ(RealApplies(), 1);
  absl::MutexLock lock(&authz_.mu_);
  EXPECT_EQ(authz_.applies.back().reason(), "CHG-1");
  EXPECT_EQ(authz_.applies.back().policy().roles(0).name(), "line_operator");
}

TEST_F(CliTest, PolicyApplyWithYesAppliesWithoutAsking) {
  RunResult result =
      Run({"policy", "apply", ValidPolicyFile(), "--reason", "CHG-1", "--yes"});
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("+ role role_0\n"));
  EXPECT_THAT(result.out, HasSubstr("at revision 9"));
  EXPECT_EQ(RealApplies(), 1);
}

TEST_F(CliTest, PolicyApplyWithNoChangesDoesNothing) {
  {
    absl::MutexLock lock(&authz_.mu_);
    authz_.apply_changes = 0;
  }
  RunResult result =
      Run({"policy", "apply", ValidPolicyFile(), "--reason", "CHG-1"});
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_EQ(result.out, "no changes\n");
  EXPECT_EQ(RealApplies(), 0);
}

TEST_F(CliTest, PolicyApplyStopsOnLintIssuesAndNeedsReason) {
  const std::string bad = WriteFile("bad_apply.textproto",
                                    "roles { name: \"x\" inherits: \"y\" }\n");
  RunResult issues =
      Run({"policy", "apply", bad, "--reason", "CHG-1", "--yes"});
  EXPECT_EQ(issues.code, kExitInvalid);
  EXPECT_THAT(issues.err, HasSubstr("nothing applied"));
  EXPECT_EQ(Run({"policy", "apply", ValidPolicyFile(), "--yes"}).code,
            kExitUsage);
  absl::MutexLock lock(&authz_.mu_);
  EXPECT_THAT(authz_.applies, IsEmpty());
}

// TLS mode against a server that requires and verifies a client certificate
// (admin/testdata: a test CA, a server certificate for 127.0.0.1, a client
// certificate with CN=admin).
class CliTlsTest : public CliTest {
 protected:
  static std::string Read(const std::string& name) {
    std::ifstream in("admin/testdata/" + name);
    std::stringstream contents;
    contents << in.rdbuf();
    return contents.str();
  }

  std::shared_ptr<grpc::ServerCredentials> ServerCredentials() override {
    grpc::SslServerCredentialsOptions options(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_root_certs = Read("ca.pem");
    options.pem_key_cert_pairs.push_back(
        {Read("server.key"), Read("server.pem")});
    return grpc::SslServerCredentials(options);
  }

  static std::vector<std::string> TlsFlags() {
    return {"--tls-ca",   "admin/testdata/ca.pem",
            "--tls-cert", "admin/testdata/client.pem",
            "--tls-key",  "admin/testdata/client.key"};
  }
};

TEST_F(CliTlsTest, PresentsClientCertificateAndSendsNoCallerHeader) {
  std::vector<std::string> args = TlsFlags();
  args.insert(args.end(), {"check", "p-1", "x:y", "/"});
  RunResult result = Run(args, /*as_admin=*/false);
  EXPECT_EQ(result.code, kExitDenied) << result.err;
  EXPECT_THAT(Callers(), ElementsAre("<none>"));
  EXPECT_THAT(CommonNames(), ElementsAre("admin"));
}

TEST_F(CliTlsTest, RefusesAsFlagAndUnreadableFiles) {
  std::vector<std::string> with_as = TlsFlags();
  with_as.insert(with_as.end(), {"--as", "admin", "check", "p", "x:y", "/"});
  RunResult as = Run(with_as, /*as_admin=*/false);
  EXPECT_EQ(as.code, kExitUsage);
  EXPECT_THAT(as.err, HasSubstr("certificate's CN"));

  RunResult missing =
      Run({"--tls-ca", "admin/testdata/nope.pem", "--tls-cert",
           "admin/testdata/client.pem", "--tls-key",
           "admin/testdata/client.key", "check", "p", "x:y", "/"},
          /*as_admin=*/false);
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_THAT(missing.err, HasSubstr("--tls-ca: cannot read"));
  EXPECT_THAT(Callers(), IsEmpty());
}

TEST_F(CliTlsTest, InsecureClientCannotTalkToTlsServer) {
  RunResult result = Run({"--timeout", "2s", "check", "p", "x:y", "/"});
  EXPECT_EQ(result.code, kExitUnavailable);
}

}  // namespace
}  // namespace iam::admin
