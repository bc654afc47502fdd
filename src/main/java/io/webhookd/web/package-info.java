/** HTTP plumbing shared by the public webhook listener and the management listener. */
package io.webhookd.web;
