#include "commands.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "events/errors.hpp"
#include "events/schema_registry.hpp"
#include "product.hpp"

namespace bazaar::catalog {
namespace {

const char* const kProduct = "0190f5c2-7a1b-7c3d-8e4f-123456789abc";
const char* const kSeller = "0190f5c2-7a1b-7c3d-8e4f-000000000001";
const char* const kAdmin = "0190f5c2-7a1b-7c3d-8e4f-0000000000aa";

boost::json::object create_payload() {
  return boost::json::parse(R"({"product_id":"0190f5c2-7a1b-7c3d-8e4f-123456789abc",
    "seller_id":"0190f5c2-7a1b-7c3d-8e4f-000000000001","name":"Tea pot","price":1250,
    "currency":"EUR","category":"kitchen","initial_stock":7})")
      .as_object();
}

using contracts::catalog::CreateProductV1;
using contracts::catalog::DeleteProductV1;
using contracts::catalog::UpdateProductV1;

Product sample_product() {
  Product p = command_of(CreateProductV1::from(create_payload())).product;
  p.created_at = "2026-11-23T10:00:00.000Z";
  p.updated_at = p.created_at;
  return p;
}

const events::SchemaRegistry& schemas() {
  static const events::SchemaRegistry registry(BAZAAR_SCHEMAS_DIR);
  return registry;
}

template <typename Payload>
void check_valid(const Payload& payload) {
  const auto valid = schemas().validate(Payload::kType, payload.to_json());
  CHECK_MESSAGE(valid.ok(), (valid.ok() ? std::string{} : valid.error().message));
}

}  // namespace

TEST_CASE("create without actor fields acts as the seller") {
  const auto cmd = command_of(CreateProductV1::from(create_payload()));
  CHECK(cmd.actor.id == kSeller);
  CHECK(cmd.actor.role == Role::seller);
  CHECK(cmd.product.product_id == kProduct);
  CHECK(cmd.product.price == 1250);
  CHECK(cmd.product.description.empty());
  CHECK(cmd.initial_stock == 7);
}

TEST_CASE("create with actor fields keeps them") {
  auto payload = create_payload();
  payload["actor_id"] = kAdmin;
  payload["actor_role"] = "admin";
  payload["description"] = "Blue";
  const auto cmd = command_of(CreateProductV1::from(payload));
  CHECK(cmd.actor.id == kAdmin);
  CHECK(cmd.actor.role == Role::admin);
  CHECK(cmd.product.description == "Blue");
}

TEST_CASE("create without a required field is a permanent error naming it") {
  auto payload = create_payload();
  payload.erase("price");
  CHECK_THROWS_WITH_AS(CreateProductV1::from(payload),
                       "payload field price must be a 64-bit integer", events::PermanentError);
}

TEST_CASE("update applies only the fields it carries") {
  const auto cmd = command_of(UpdateProductV1::from(boost::json::parse(R"({
    "product_id":"0190f5c2-7a1b-7c3d-8e4f-123456789abc","price":990,
    "actor_id":"0190f5c2-7a1b-7c3d-8e4f-000000000001","actor_role":"seller"})")));
  CHECK(cmd.actor.role == Role::seller);
  Product p = sample_product();
  apply_changes(p, cmd);
  CHECK(p.price == 990);
  CHECK(p.name == "Tea pot");
  CHECK(p.category == "kitchen");
  CHECK(p.currency == "EUR");
}

TEST_CASE("update and delete need their actor") {
  CHECK_THROWS_AS(UpdateProductV1::from(boost::json::parse(R"({"product_id":"x"})")),
                  events::PermanentError);
  CHECK_THROWS_AS(DeleteProductV1::from(boost::json::parse(R"({"product_id":"x","actor_id":"y"})")),
                  events::PermanentError);
  const auto del =
      command_of(DeleteProductV1::from(boost::json::parse(R"({"product_id":"p","actor_id":"a",
    "actor_role":"admin"})")));
  CHECK(del.actor.role == Role::admin);
}

TEST_CASE("emitted payloads satisfy their schemas") {
  const Product p = sample_product();
  check_valid(created_payload(p, 7));
  check_valid(updated_payload(p));
  check_valid(deleted_payload(p, "2026-11-23T11:00:00.000Z"));
  const Rejection why{Refusal::forbidden, "no"};
  const auto rejected = rejected_payload(kProduct, CreateProductV1::kType, why, kSeller).to_json();
  CHECK(schemas().validate(contracts::catalog::ProductCommandRejectedV1::kType, rejected).ok());
  CHECK(rejected.at("reason").as_string() == "forbidden");
  CHECK(rejected.at("command").as_string() == CreateProductV1::kType);
  CHECK_FALSE(
      rejected_payload(kProduct, CreateProductV1::kType, why, "").to_json().contains("actor_id"));
}

TEST_CASE("product status has stored names") {
  CHECK(to_string(ProductStatus::active) == "ACTIVE");
  CHECK(parse_status("DELETED") == ProductStatus::deleted);
  CHECK_FALSE(parse_status("gone").has_value());
  Product p = sample_product();
  p.status = ProductStatus::deleted;
  CHECK(ownership_of(p).deleted);
  CHECK(ownership_of(p).seller_id == kSeller);
}

}  // namespace bazaar::catalog
