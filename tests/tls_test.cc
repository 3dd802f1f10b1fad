// mTLS: with certificates configured, iamd names callers by their client
// certificate's common name, ignores the caller header, and refuses clients
// without a certificate. Without TLS it refuses to listen beyond loopback.
#include <fstream>
#include <sstream>

#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string TestData(const std::string& name) {
  return Runfile("admin/testdata/" + name);
}

std::vector<std::string> TlsFlags() {
  return {"--tls_cert=" + TestData("server.pem"),
          "--tls_key=" + TestData("server.key"),
          "--tls_client_ca=" + TestData("ca.pem")};
}

std::shared_ptr<grpc::ChannelCredentials> ClientCredentials(bool with_cert) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = Slurp(TestData("ca.pem"));
  if (with_cert) {
    options.pem_cert_chain = Slurp(TestData("client.pem"));  // CN=admin
    options.pem_private_key = Slurp(TestData("client.key"));
  }
  return grpc::SslCredentials(options);
}

TEST(TlsTest, CallerIsTheCertificateCommonNameNotTheHeader) {
  auto iamd = IamdProcess::Start(NewTempDir("tls"), TlsFlags(),
                                 ClientCredentials(true), "localhost");
  ASSERT_TRUE(iamd.ok()) << iamd.status();
  auto authz = iam::v1::AuthzService::NewStub((*iamd)->channel());

  // The certificate says "admin"; a header claiming someone else is ignored.
  grpc::ClientContext ctx;
  PrepareContext(&ctx, "someone-else");
  iam::v1::GetPolicyRequest req;
  iam::v1::GetPolicyResponse resp;
  grpc::Status s = authz->GetPolicy(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GT(resp.policy().roles_size(), 5);

  // Co-hosted services still reach each other (in-process channel, token).
  auto identity = iam::v1::IdentityService::NewStub((*iamd)->channel());
  grpc::ClientContext ctx2;
  ctx2.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  iam::v1::CreatePersonRequest create;
  create.mutable_person()->set_id("p-tls");
  create.mutable_person()->set_display_name("TLS Person");
  create.mutable_person()->set_org_unit("ou/it");
  create.mutable_person()->set_job_code("IT_ADMIN");
  create.mutable_person()->set_site("sz");
  iam::v1::CreatePersonResponse created;
  s = identity->CreatePerson(&ctx2, create, &created);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST(TlsTest, ClientWithoutCertificateIsRefused) {
  auto iamd = IamdProcess::Start(NewTempDir("tls-nocert"), TlsFlags(),
                                 ClientCredentials(true), "localhost");
  ASSERT_TRUE(iamd.ok()) << iamd.status();
  auto channel = grpc::CreateChannel((*iamd)->address(), ClientCredentials(false));
  auto authz = iam::v1::AuthzService::NewStub(channel);
  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin", 5);
  iam::v1::GetPolicyRequest req;
  iam::v1::GetPolicyResponse resp;
  grpc::Status s = authz->GetPolicy(&ctx, req, &resp);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(resp.policy().roles_size(), 0);
}

TEST(TlsTest, InsecureModeRefusesNonLoopbackListenAddress) {
  auto iamd = IamdProcess::Start(NewTempDir("open"), {"--listen=0.0.0.0:0"});
  ASSERT_FALSE(iamd.ok());
  EXPECT_NE(std::string(iamd.status().message()).find("exited"),
            std::string::npos)
      << iamd.status();
}

}  // namespace
}  // namespace iam::testing
