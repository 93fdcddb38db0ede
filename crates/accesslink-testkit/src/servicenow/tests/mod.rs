//! Tests of the ServiceNow mock, plain reqwest against it.

mod support;

mod basics;
