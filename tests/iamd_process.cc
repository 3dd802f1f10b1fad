#include "tests/iamd_process.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "services/common/caller.h"

namespace iam::testing {

std::string Runfile(const std::string& path) {
  const char* dir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  if (dir != nullptr && ws != nullptr) {
    return absl::StrCat(dir, "/", ws, "/", path);
  }
  return path;
}

std::string NewTempDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  // mkdtemp creates a new directory, so a directory that an earlier run
  // left behind (a reused pid outside Bazel) is never handed out again.
  std::string pattern =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name, "-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "NewTempDir: mkdtemp(%s): %s\n", pattern.c_str(),
                 std::strerror(errno));
    std::abort();
  }
  return pattern;
}

ScopedTempDir::~ScopedTempDir() {
  if (keep_) {
    std::fprintf(stderr, "kept %s\n", path_.c_str());
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
  std::filesystem::remove(path_ + ".port", ignored);
}

void PrepareContext(grpc::ClientContext* context, const std::string& caller,
                    int deadline_seconds) {
  context->AddMetadata(kCallerHeader, caller);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(deadline_seconds));
}

std::string IamdProcess::address() const {
  return absl::StrCat(host_, ":", port_);
}

absl::StatusOr<std::unique_ptr<IamdProcess>> IamdProcess::Start(
    const std::string& data_dir, std::vector<std::string> extra_flags,
    std::shared_ptr<grpc::ChannelCredentials> credentials,
    const std::string& host) {
  std::string port_file = absl::StrCat(data_dir, ".port");
  unlink(port_file.c_str());
  std::vector<std::string> args = {
      Runfile("services/iamd/iamd"),
      "--listen=127.0.0.1:0",
      absl::StrCat("--data_dir=", data_dir),
      absl::StrCat("--policy_dir=", Runfile("policy")),
      "--bootstrap_admin=admin",
      absl::StrCat("--port_file=", port_file),
  };
  for (auto& f : extra_flags) args.push_back(std::move(f));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::unique_ptr<IamdProcess> p(new IamdProcess);
  p->host_ = host;
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  p->pid_ = fork();
  if (p->pid_ < 0) return absl::InternalError("fork failed");
  if (p->pid_ == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(p->pid_, &status, WNOHANG) == p->pid_) {
      p->pid_ = -1;
      return absl::InternalError(
          absl::StrCat("iamd exited during start-up, status ", status));
    }
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      p->port_ = port;
      p->channel_ = grpc::CreateChannel(p->address(), credentials);
      if (p->channel_->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(10))) {
        return p;
      }
      return absl::UnavailableError("iamd wrote its port but does not answer");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError("iamd did not start within 60 s");
}

int IamdProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void IamdProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

IamdProcess::~IamdProcess() { Kill(); }

}  // namespace iam::testing
