#include "auth/passwords.hpp"

#include <argon2.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "auth/auth_crypto.hpp"

namespace bazaar::edge {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

}  // namespace

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) {
    // Continuation bytes (10xxxxxx) belong to the code point before them.
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

bool acceptable_password(std::string_view password) {
  const std::size_t n = utf8_length(password);
  return n >= kMinPasswordChars && n <= kMaxPasswordChars;
}

namespace {

// argon2id costs 64 MiB and ~200 ms a call: at most two run at once (one per core), so a burst
// of sign-ins waits its turn instead of exhausting memory and every request thread.
class Argon2Gate {
 public:
  void enter() {
    std::unique_lock lock(mutex_);
    free_.wait(lock, [this] { return running_ < kMaxRunning; });
    ++running_;
  }
  void leave() {
    {
      std::lock_guard lock(mutex_);
      --running_;
    }
    free_.notify_one();
  }

 private:
  static constexpr int kMaxRunning = 2;
  std::mutex mutex_;
  std::condition_variable free_;
  int running_ = 0;
};

Argon2Gate g_gate;

struct GateTurn {
  GateTurn() { g_gate.enter(); }
  ~GateTurn() { g_gate.leave(); }
  GateTurn(const GateTurn&) = delete;
  GateTurn& operator=(const GateTurn&) = delete;
};

}  // namespace

std::string hash_password(std::string_view password, const PasswordParams& params) {
  const GateTurn turn;
  const std::string salt = random_bytes(kSaltBytes);
  const std::size_t len = argon2_encodedlen(params.iterations, params.memory_kib,
                                            params.parallelism, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(len, '\0');
  const int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                       password.data(), password.size(), salt.data(), salt.size(),
                                       kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    throw std::runtime_error(std::string("argon2id failed: ") + argon2_error_message(rc));
  }
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

bool verify_password(std::string_view password, const std::string& encoded) {
  // Only argon2id is ours; this also keeps argon2 from parsing arbitrary strings.
  if (encoded.rfind("$argon2id$", 0) != 0) return false;
  const GateTurn turn;
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace bazaar::edge
