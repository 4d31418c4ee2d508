//! `/{userId}/settings/...` and `/{userId}/billing/balance/`.

use axum::extract::{Extension, Path, State};
use axum::routing::{MethodRouter, get};
use serde_json::{Value, json};

use super::{Shr, bool_value, e164_param, links};
use crate::emulator::model::MobileDevice;
use crate::emulator::server::{ApiError, ApiResult, Params, Reply};
use crate::emulator::wire;

pub fn routes() -> Vec<(&'static str, MethodRouter<Shr>)> {
    vec![
        ("/{user}/settings/numbers/", get(numbers)),
        ("/{user}/settings/numbers/list/", get(number_list)),
        (
            "/{user}/settings/numbers/outgoing/",
            get(outgoing).post(set_outgoing),
        ),
        ("/{user}/settings/extensions/", get(extensions)),
        ("/{user}/settings/extensions/{ext}/", get(extension)),
        (
            "/{user}/settings/extensions/{ext}/dnd/",
            get(dnd).post(set_dnd),
        ),
        ("/{user}/settings/baseproducttype/", get(base_product_type)),
        (
            "/{user}/settings/registeredmobiledevices/",
            get(mobile_devices),
        ),
        (
            "/{user}/settings/mobile/extensions/",
            get(mobile_extensions).post(add_mobile_extension),
        ),
        (
            "/{user}/settings/mobile/extensions/unifiedvoicemailgsmcode/",
            get(gsm_code),
        ),
        ("/{user}/billing/balance/", get(balance)),
    ]
}

async fn numbers(State(shared): State<Shr>) -> ApiResult {
    let state = shared.read();
    let a = &state.account;
    let list: Vec<Value> = a
        .numbers
        .iter()
        .map(|n| json!({ "numberE164": n.e164, "numberPretty": n.pretty, "type": n.kind, "extensionId": n.extension_id }))
        .collect();
    Ok(Reply::Tree(
        json!({ "numbers": { "allowAdd": a.allow_add, "allowEmptyOadc": a.allow_empty_oadc, "phonenumbers": list } }),
    ))
}

async fn number_list(State(shared): State<Shr>) -> ApiResult {
    let state = shared.read();
    Ok(Reply::Tree(
        json!({ "numberlist": { "numbers": state.account.number_list } }),
    ))
}

fn outgoing_tree(shared: &Shr) -> Value {
    let state = shared.read();
    let items: Vec<Value> = state
        .account
        .extensions
        .iter()
        .filter_map(|e| {
            e.outgoing_number
                .as_ref()
                .map(|n| json!({ "extensionId": e.id, "numberE164": n }))
        })
        .collect();
    json!({ "outgoingNumbers": { "items": items } })
}

async fn outgoing(State(shared): State<Shr>) -> ApiResult {
    Ok(Reply::Tree(outgoing_tree(&shared)))
}

/// Form `extensionId` and `number` (one of the account's numbers).
async fn set_outgoing(
    State(shared): State<Shr>,
    Extension(params): Extension<Params>,
) -> ApiResult {
    let ext = params
        .get("extensionId")
        .ok_or_else(|| ApiError::bad_request("missing parameter: extensionId"))?;
    let number = e164_param(
        params
            .get("number")
            .ok_or_else(|| ApiError::bad_request("missing parameter: number"))?,
    )?;
    {
        let mut state = shared.write();
        if !state.account.number_list.contains(&number) {
            return Err(ApiError::bad_request(format!(
                "{number} is not a number of this account"
            )));
        }
        let extension = state
            .account
            .extension_mut(ext)
            .ok_or_else(|| ApiError::not_found(format!("no extension {ext:?}")))?;
        extension.outgoing_number = Some(number);
    }
    Ok(Reply::Tree(outgoing_tree(&shared)))
}

async fn extensions(State(shared): State<Shr>, Path(user): Path<String>) -> ApiResult {
    let state = shared.read();
    let links = links(&shared, &user);
    let list: Vec<Value> = state
        .account
        .extensions
        .iter()
        .map(|e| wire::extension(&links, e, false))
        .collect();
    Ok(Reply::Tree(json!({ "extensions": { "extensions": list } })))
}

async fn extension(
    State(shared): State<Shr>,
    Path((user, ext)): Path<(String, String)>,
) -> ApiResult {
    let state = shared.read();
    let e = state
        .account
        .extension(&ext)
        .ok_or_else(|| ApiError::not_found(format!("no extension {ext:?}")))?;
    Ok(Reply::Tree(
        json!({ "extension": wire::extension(&links(&shared, &user), e, true) }),
    ))
}

async fn dnd(State(shared): State<Shr>, Path((_, ext)): Path<(String, String)>) -> ApiResult {
    let state = shared.read();
    let e = state
        .account
        .extension(&ext)
        .ok_or_else(|| ApiError::not_found(format!("no extension {ext:?}")))?;
    Ok(Reply::Tree(json!({ "dnd": { "value": e.dnd } })))
}

async fn set_dnd(
    State(shared): State<Shr>,
    Path((_, ext)): Path<(String, String)>,
    Extension(params): Extension<Params>,
) -> ApiResult {
    let value = bool_value(&params)?;
    let mut state = shared.write();
    let e = state
        .account
        .extension_mut(&ext)
        .ok_or_else(|| ApiError::not_found(format!("no extension {ext:?}")))?;
    e.dnd = value;
    Ok(Reply::Tree(json!({ "dnd": { "value": value } })))
}

async fn base_product_type(State(shared): State<Shr>) -> ApiResult {
    Ok(Reply::Tree(
        json!({ "baseproducttype": { "value": shared.read().account.base_product_type } }),
    ))
}

async fn mobile_devices(State(shared): State<Shr>) -> ApiResult {
    let state = shared.read();
    let items: Vec<Value> = state
        .account
        .mobile_devices
        .iter()
        .map(|d| wire::mobile(d, "deviceId"))
        .collect();
    Ok(Reply::Tree(
        json!({ "registeredMobileDevices": { "items": items } }),
    ))
}

async fn mobile_extensions(State(shared): State<Shr>) -> ApiResult {
    let state = shared.read();
    let items: Vec<Value> = state
        .account
        .mobile_extensions
        .iter()
        .map(|d| wire::mobile(d, "extensionId"))
        .collect();
    Ok(Reply::Tree(
        json!({ "mobileExtensions": { "items": items } }),
    ))
}

/// Form `phoneNumber`, `model`, `vendor`, `firmware`, all required.
async fn add_mobile_extension(
    State(shared): State<Shr>,
    Extension(params): Extension<Params>,
) -> ApiResult {
    let field = |key: &str| {
        params
            .get(key)
            .filter(|v| !v.trim().is_empty())
            .map(str::to_string)
            .ok_or_else(|| ApiError::bad_request(format!("missing parameter: {key}")))
    };
    let phone_number = e164_param(&field("phoneNumber")?)?;
    let (model, vendor, firmware) = (field("model")?, field("vendor")?, field("firmware")?);
    let mut state = shared.write();
    let id = format!("m{}", state.account.mobile_extensions.len());
    let device = MobileDevice {
        id,
        phone_number,
        model,
        vendor,
        firmware,
    };
    let tree = json!({ "mobileExtension": wire::mobile(&device, "extensionId") });
    state.account.mobile_extensions.push(device);
    Ok(Reply::Tree(tree))
}

async fn gsm_code(State(shared): State<Shr>) -> ApiResult {
    let state = shared.read();
    let voicemail = state
        .account
        .numbers
        .first()
        .map(|n| n.e164.clone())
        .unwrap_or_default();
    Ok(Reply::Tree(
        json!({ "gsmCode": { "code": format!("**004*+{voicemail}9#") } }),
    ))
}

async fn balance(State(shared): State<Shr>) -> ApiResult {
    Ok(Reply::Tree(wire::balance(&shared.read().account.balance)))
}
