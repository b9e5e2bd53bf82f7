#include "http/ws_registry.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <vector>

using namespace bazaar::edge;

namespace {

struct Recorder final : WsOutlet {
  std::vector<std::string> frames;
  bool closed = false;
  void send(std::shared_ptr<const std::string> text) override { frames.push_back(*text); }
  void close() override { closed = true; }
};

}  // namespace

TEST_CASE("frames reach the sessions of their user, broadcasts every session") {
  WsRegistry registry;
  auto alice = std::make_shared<Recorder>();
  auto alice_phone = std::make_shared<Recorder>();
  auto bob = std::make_shared<Recorder>();
  registry.add({"alice", "buyer"}, alice);
  registry.add({"alice", "buyer"}, alice_phone);
  const auto bob_id = registry.add({"bob", "admin"}, bob);
  CHECK(registry.sessions() == 3);
  registry.send_to_user("alice", "hi");
  registry.broadcast("all");
  CHECK(alice->frames == std::vector<std::string>{"hi", "all"});
  CHECK(alice_phone->frames == std::vector<std::string>{"hi", "all"});
  CHECK(bob->frames == std::vector<std::string>{"all"});
  // Stats go to admins only.
  registry.send_to_role("admin", "stats");
  CHECK(bob->frames == std::vector<std::string>{"all", "stats"});
  CHECK(alice->frames.size() == 2);
  registry.remove(bob_id);
  registry.broadcast("later");
  CHECK(bob->frames.size() == 2);
}

TEST_CASE("a session that went away is skipped, and closing refuses new ones") {
  WsRegistry registry;
  auto kept = std::make_shared<Recorder>();
  registry.add({"u", "buyer"}, kept);
  {
    auto gone = std::make_shared<Recorder>();
    registry.add({"u", "buyer"}, gone);
  }
  registry.send_to_user("u", "x");
  CHECK(kept->frames.size() == 1);
  registry.close_all();
  CHECK(kept->closed);
  CHECK(registry.add({"u", "buyer"}, std::make_shared<Recorder>()) == 0);
}
