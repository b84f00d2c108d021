//! Capabilities as types (lldap's way): an operation takes an
//! `Authorized<C>` (see `caller`), which only `Caller::authorize` makes,
//! and only for a caller whose roles grant `C`. So no operation can be
//! reached without the check, and the signature says which check it is.

use pingan_core::access::Cap;

/// A capability as a type.
pub trait Capability {
    const CAP: Cap;
}

macro_rules! capabilities {
    ($($name:ident),+ $(,)?) => {
        /// One type per `Cap`, to name in operation signatures.
        pub mod cap {
            $(
                #[derive(Debug)]
                pub struct $name;
                impl super::Capability for $name {
                    const CAP: pingan_core::access::Cap = pingan_core::access::Cap::$name;
                }
            )+
        }
    };
}

capabilities!(
    Structure,
    Scores,
    Values,
    Submit,
    DirectImport,
    Progress,
    Quality,
    Check,
    ReviewBoard,
    Review,
    ReviewFirst,
    ReviewSecond,
    ReviewThird,
    ResubmitAny,
    Unlock,
    FieldRead,
    Field,
    FieldRecord,
    Cases,
    CaseImport,
    Callbacks,
    Callback,
    Surveys,
    SurveyManage,
    SurveyAnswers,
    Events,
    Ledger,
    Users,
    Accounts,
    RoleGrant,
    Notices,
    Rectify,
    Publish,
);
