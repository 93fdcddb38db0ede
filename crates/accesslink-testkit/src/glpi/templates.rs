//! Field templates of the modelled itemtypes: every column `GET /:itemtype/:id` prints, with
//! the values GLPI 10.0.11 gives a new row (recorded on the real server, ids and dates
//! cleared). A stored row only keeps what differs; [`template`] fills in the rest, so the
//! mock prints the same keys and value types as the server.
//!
//! `Profile` keeps only its 17 own columns: the real `GET /Profile/:id` also prints the ~94
//! profile rights, which no connector needs (listed in `diff.rs` DIFFERENCES).

use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::items::Itemtype;
const TICKET: &str = r#"{"entities_id":0,"name":"","date":null,"closedate":null,"solvedate":null,
"takeintoaccountdate":null,"date_mod":null,"users_id_lastupdater":0,"status":1,
"users_id_recipient":0,"requesttypes_id":1,"content":"","urgency":3,"impact":3,"priority":3,
"itilcategories_id":0,"type":1,"global_validation":1,"slas_id_ttr":0,"slas_id_tto":0,
"slalevels_id_ttr":0,"time_to_resolve":null,"time_to_own":null,"begin_waiting_date":null,
"sla_waiting_duration":0,"ola_waiting_duration":0,"olas_id_tto":0,"olas_id_ttr":0,
"olalevels_id_ttr":0,"ola_tto_begin_date":null,"ola_ttr_begin_date":null,
"internal_time_to_resolve":null,"internal_time_to_own":null,"waiting_duration":0,
"close_delay_stat":0,"solve_delay_stat":0,"takeintoaccount_delay_stat":0,"actiontime":0,
"is_deleted":0,"locations_id":0,"validation_percent":0,"date_creation":null}"#;
const CHANGE: &str = r#"{"name":"","entities_id":0,"is_recursive":0,"is_deleted":0,"status":1,"content":"",
"date_mod":null,"date":null,"solvedate":null,"closedate":null,"time_to_resolve":null,
"users_id_recipient":0,"users_id_lastupdater":0,"urgency":3,"impact":3,"priority":3,
"itilcategories_id":0,"impactcontent":null,"controlistcontent":null,"rolloutplancontent":null,
"backoutplancontent":null,"checklistcontent":null,"global_validation":1,"validation_percent":0,
"actiontime":0,"begin_waiting_date":null,"waiting_duration":0,"close_delay_stat":0,
"solve_delay_stat":0,"date_creation":null,"locations_id":0}"#;
const ITILFOLLOWUP: &str = r#"{"itemtype":"","items_id":0,"date":null,"users_id":0,"users_id_editor":0,"content":"",
"is_private":0,"requesttypes_id":0,"date_mod":null,"date_creation":null,"timeline_position":1,
"sourceitems_id":0,"sourceof_items_id":0}"#;
const TICKETVALIDATION: &str = r#"{"entities_id":0,"users_id":0,"tickets_id":0,"users_id_validate":0,"comment_submission":null,
"comment_validation":null,"status":2,"submission_date":null,"validation_date":null,
"timeline_position":1}"#;
const CHANGEVALIDATION: &str = r#"{"entities_id":0,"is_recursive":0,"users_id":0,"changes_id":0,"users_id_validate":0,
"comment_submission":null,"comment_validation":null,"status":2,"submission_date":null,
"validation_date":null,"timeline_position":1}"#;
const USER: &str = r#"{"name":"","password_last_update":null,"phone":null,"phone2":null,"mobile":null,
"realname":null,"firstname":null,"locations_id":0,"language":null,"use_mode":0,
"list_limit":null,"is_active":1,"comment":null,"auths_id":0,"authtype":1,"last_login":null,
"date_mod":null,"date_sync":null,"is_deleted":0,"profiles_id":0,"entities_id":0,
"usertitles_id":0,"usercategories_id":0,"date_format":null,"number_format":null,
"names_format":null,"csv_delimiter":null,"is_ids_visible":null,"use_flat_dropdowntree":null,
"use_flat_dropdowntree_on_search_result":null,"show_jobs_at_login":null,"priority_1":null,
"priority_2":null,"priority_3":null,"priority_4":null,"priority_5":null,"priority_6":null,
"followup_private":null,"task_private":null,"default_requesttypes_id":null,
"password_forget_token":null,"password_forget_token_date":null,"user_dn":null,
"registration_number":null,"show_count_on_tabs":null,"refresh_views":null,
"set_default_tech":null,"personal_token_date":null,"api_token_date":null,
"cookie_token_date":null,"display_count_on_home":null,"notification_to_myself":null,
"duedateok_color":null,"duedatewarning_color":null,"duedatecritical_color":null,
"duedatewarning_less":null,"duedatecritical_less":null,"duedatewarning_unit":null,
"duedatecritical_unit":null,"display_options":null,"is_deleted_ldap":0,"pdffont":null,
"picture":null,"begin_date":null,"end_date":null,"keep_devices_when_purging_item":null,
"privatebookmarkorder":null,"backcreated":null,"task_state":null,"palette":null,
"page_layout":null,"fold_menu":null,"fold_search":null,"savedsearches_pinned":null,
"timeline_order":null,"itil_layout":null,"richtext_layout":null,"set_default_requester":null,
"lock_autolock_mode":null,"lock_directunlock_notification":null,"date_creation":null,
"highcontrast_css":0,"plannings":null,"sync_field":null,"groups_id":0,"users_id_supervisor":0,
"timezone":null,"default_dashboard_central":null,"default_dashboard_assets":null,
"default_dashboard_helpdesk":null,"default_dashboard_mini_ticket":null,"default_central_tab":0,
"nickname":null,"timeline_action_btn_layout":0,"timeline_date_format":0}"#;
const USEREMAIL: &str = r#"{"users_id":0,"is_default":0,"is_dynamic":0,"email":""}"#;
const GROUP: &str = r#"{"entities_id":0,"is_recursive":0,"name":"","comment":null,"ldap_field":null,"ldap_value":null,
"ldap_group_dn":null,"date_mod":null,"groups_id":0,"completename":"","level":1,
"ancestors_cache":"[]","sons_cache":null,"is_requester":1,"is_watcher":1,"is_assign":1,
"is_task":1,"is_notify":1,"is_itemgroup":1,"is_usergroup":1,"is_manager":1,
"date_creation":null}"#;
const GROUPUSER: &str =
    r#"{"users_id":0,"groups_id":0,"is_dynamic":0,"is_manager":0,"is_userdelegate":0}"#;
const PROFILE: &str = r#"{"name":"","interface":"helpdesk","is_default":0,"helpdesk_hardware":0,
"helpdesk_item_type":"[\"Computer\",\"Monitor\",\"NetworkEquipment\",\"Peripheral\",\"Phone\",\"Printer\",\"Software\", \"DCRoom\", \"Rack\", \"Enclosure\", \"Database\"]",
"ticket_status":"[]","date_mod":null,"comment":"","problem_status":"[]",
"create_ticket_on_login":0,"tickettemplates_id":0,"changetemplates_id":0,
"problemtemplates_id":0,"change_status":null,"managed_domainrecordtypes":"[]",
"date_creation":null}"#;
const PROFILEUSER: &str = r#"{"users_id":0,"profiles_id":0,"entities_id":0,"is_recursive":0,"is_dynamic":0,
"is_default_profile":0}"#;
const ENTITY: &str = r#"{"name":"","entities_id":0,"completename":"","comment":null,"level":1,"sons_cache":null,
"ancestors_cache":null,"registration_number":null,"address":null,"postcode":null,"town":null,
"state":null,"country":null,"website":null,"phonenumber":null,"fax":null,"email":null,
"admin_email":null,"admin_email_name":null,"from_email":null,"from_email_name":null,
"noreply_email":null,"noreply_email_name":null,"replyto_email":null,"replyto_email_name":null,
"notification_subject_tag":null,"ldap_dn":null,"tag":null,"authldaps_id":0,"mail_domain":null,
"entity_ldapfilter":null,"mailing_signature":null,"cartridges_alert_repeat":0,
"consumables_alert_repeat":0,"use_licenses_alert":0,"send_licenses_alert_before_delay":0,
"use_certificates_alert":0,"send_certificates_alert_before_delay":0,
"certificates_alert_repeat_interval":0,"use_contracts_alert":0,
"send_contracts_alert_before_delay":0,"use_infocoms_alert":0,
"send_infocoms_alert_before_delay":0,"use_reservations_alert":0,"use_domains_alert":-2,
"send_domains_alert_close_expiries_delay":-2,"send_domains_alert_expired_delay":-2,
"autoclose_delay":-10,"autopurge_delay":-10,"notclosed_delay":0,"calendars_strategy":0,
"calendars_id":0,"auto_assign_mode":-10,"tickettype":1,"max_closedate":null,"inquest_config":1,
"inquest_rate":0,"inquest_delay":0,"inquest_URL":null,"autofill_warranty_date":"0",
"autofill_use_date":"0","autofill_buy_date":"0","autofill_delivery_date":"0",
"autofill_order_date":"0","tickettemplates_strategy":0,"tickettemplates_id":1,
"changetemplates_strategy":0,"changetemplates_id":1,"problemtemplates_strategy":0,
"problemtemplates_id":1,"entities_strategy_software":-10,"entities_id_software":-10,
"default_contract_alert":0,"default_infocom_alert":0,"default_cartridges_alarm_threshold":10,
"default_consumables_alarm_threshold":10,"delay_send_emails":0,"is_notif_enable_default":1,
"inquest_duration":0,"date_mod":null,"date_creation":null,"autofill_decommission_date":"0",
"suppliers_as_private":0,"anonymize_support_agents":0,"display_users_initials":1,
"contracts_strategy_default":0,"contracts_id_default":0,"enable_custom_css":0,
"custom_css_code":null,"latitude":null,"longitude":null,"altitude":null,"transfers_strategy":0,
"transfers_id":0,"agent_base_url":null}"#;
/// The default row of `itemtype`, without `id`.
pub(super) fn template(itemtype: Itemtype) -> &'static Map<String, Value> {
    static CACHE: OnceLock<Vec<Map<String, Value>>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        Itemtype::ALL
            .iter()
            .map(|it| match serde_json::from_str(source(*it)) {
                Ok(Value::Object(map)) => map,
                _ => panic!("the {} template is a JSON object", it.name()),
            })
            .collect()
    });
    &all[itemtype as usize]
}

fn source(itemtype: Itemtype) -> &'static str {
    match itemtype {
        Itemtype::Ticket => TICKET,
        Itemtype::Change => CHANGE,
        Itemtype::ITILFollowup => ITILFOLLOWUP,
        Itemtype::TicketValidation => TICKETVALIDATION,
        Itemtype::ChangeValidation => CHANGEVALIDATION,
        Itemtype::User => USER,
        Itemtype::UserEmail => USEREMAIL,
        Itemtype::Group => GROUP,
        Itemtype::GroupUser => GROUPUSER,
        Itemtype::Profile => PROFILE,
        Itemtype::ProfileUser => PROFILEUSER,
        Itemtype::Entity => ENTITY,
    }
}
