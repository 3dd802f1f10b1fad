// IamdProcess: a real iamd server in a child process for end-to-end, crash
// and load tests. Starts the binary from the test's runfiles on a free
// loopback port with its own data directory, and gives gRPC stubs that call
// as a named caller. Not thread-safe; stubs it hands out are.
#ifndef IAM_TESTS_IAMD_PROCESS_H_
#define IAM_TESTS_IAMD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>

#include "absl/status/statusor.h"

namespace iam::testing {

class IamdProcess {
 public:
  // Starts iamd on 127.0.0.1:0 with `data_dir`, the sample policy and
  // bootstrap admin "admin", plus `extra_flags`; waits until it serves.
  // With `credentials` (e.g. mTLS client credentials) the returned channel
  // uses them; by default it is an insecure loopback channel.
  static absl::StatusOr<std::unique_ptr<IamdProcess>> Start(
      const std::string& data_dir, std::vector<std::string> extra_flags = {},
      std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr,
      const std::string& host = "127.0.0.1");
  ~IamdProcess();  // SIGKILLs the child if still running.

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string address() const;
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  // Sends SIGTERM and waits; returns the exit status (0 for a clean stop).
  int Stop();
  // SIGKILL, no cleanup in the child.
  void Kill();

 private:
  IamdProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string host_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Adds the caller header and a deadline.
void PrepareContext(grpc::ClientContext* context, const std::string& caller,
                    int deadline_seconds = 10);

// A new, empty directory under TEST_TMPDIR (or /tmp); aborts if it cannot
// be created.
std::string NewTempDir(const std::string& name);

// A NewTempDir that is removed, with everything in it and the "<dir>.port"
// file IamdProcess writes beside it, when this goes out of scope. For the
// benchmarks and load tools, which run outside Bazel and so write to a /tmp
// that nobody cleans. Declare it before the IamdProcess that uses it, so the
// server is gone before its directory is.
class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& name) : path_(NewTempDir(name)) {}
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }
  // Leaves the directory in place (to look at after a failure) and says so.
  void Keep() { keep_ = true; }

 private:
  const std::string path_;
  bool keep_ = false;
};

// Path of a runfile such as "services/iamd/iamd".
std::string Runfile(const std::string& path);

}  // namespace iam::testing

#endif  // IAM_TESTS_IAMD_PROCESS_H_
