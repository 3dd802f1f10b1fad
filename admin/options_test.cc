#include "admin/options.h"

#include <map>

#include "gtest/gtest.h"

namespace iam::admin {
namespace {

ParsedArgs Parse(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(GlobalFlagSpecs(), args);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return *parsed;
}

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](absl::string_view name) -> absl::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return absl::nullopt;
    return it->second;
  };
}

TEST(ResolveGlobalOptionsTest, DefaultsToLocalServerAndTenSeconds) {
  absl::StatusOr<GlobalOptions> options =
      ResolveGlobalOptions(Parse({"--as", "admin"}), Env({}), true);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->server, "127.0.0.1:7730");
  EXPECT_EQ(options->caller, "admin");
  EXPECT_FALSE(options->tls);
  EXPECT_FALSE(options->json);
  EXPECT_EQ(options->timeout, absl::Seconds(10));
}

TEST(ResolveGlobalOptionsTest, TakesServerAndCallerFromEnvironment) {
  absl::StatusOr<GlobalOptions> options = ResolveGlobalOptions(
      Parse({}), Env({{"IAM_SERVER", "iam.sz:7730"}, {"IAM_CALLER", "sec-1"}}),
      true);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->server, "iam.sz:7730");
  EXPECT_EQ(options->caller, "sec-1");
}

TEST(ResolveGlobalOptionsTest, FlagsBeatEnvironment) {
  absl::StatusOr<GlobalOptions> options = ResolveGlobalOptions(
      Parse(
          {"--server", "other:1", "--as", "me", "--json", "--timeout", "30s"}),
      Env({{"IAM_SERVER", "iam.sz:7730"}, {"IAM_CALLER", "sec-1"}}), true);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->server, "other:1");
  EXPECT_EQ(options->caller, "me");
  EXPECT_TRUE(options->json);
  EXPECT_EQ(options->timeout, absl::Seconds(30));
}

TEST(ResolveGlobalOptionsTest,
     RequiresCallerInInsecureModeOnlyForServerCommands) {
  absl::StatusOr<GlobalOptions> missing =
      ResolveGlobalOptions(Parse({}), Env({{"IAM_CALLER", ""}}), true);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("--as"), absl::string_view::npos);
  EXPECT_TRUE(ResolveGlobalOptions(Parse({}), Env({}), false).ok());
  EXPECT_FALSE(ResolveGlobalOptions(Parse({"--as", ""}), Env({}), true).ok());
}

TEST(ResolveGlobalOptionsTest, TlsNeedsAllThreeFilesAndNoCaller) {
  absl::StatusOr<GlobalOptions> tls =
      ResolveGlobalOptions(Parse({"--tls-ca", "ca.pem", "--tls-cert", "me.pem",
                                  "--tls-key", "me.key"}),
                           Env({{"IAM_CALLER", "ignored"}}), true);
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->caller, "");
  EXPECT_EQ(tls->tls_ca_file, "ca.pem");
  EXPECT_EQ(tls->tls_cert_file, "me.pem");
  EXPECT_EQ(tls->tls_key_file, "me.key");

  EXPECT_FALSE(ResolveGlobalOptions(Parse({"--tls-ca", "ca.pem", "--as", "x"}),
                                    Env({}), true)
                   .ok());
  EXPECT_FALSE(ResolveGlobalOptions(Parse({"--tls-ca", "a", "--tls-cert", "b",
                                           "--tls-key", "c", "--as", "x"}),
                                    Env({}), true)
                   .ok());
  EXPECT_FALSE(
      ResolveGlobalOptions(Parse({"--as", "x", "--tls-server-name", "iam"}),
                           Env({}), true)
          .ok());
}

TEST(ResolveGlobalOptionsTest, RejectsBadTimeout) {
  absl::StatusOr<GlobalOptions> options = ResolveGlobalOptions(
      Parse({"--as", "a", "--timeout", "soon"}), Env({}), true);
  EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(options.status().message().find("--timeout"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace iam::admin
