-- Notices carry documents (PDF, Word .docx, Excel .xlsx) besides images: stored unchanged with their sniffed type
-- and the sender's file name (sanitised). Existing rows are images.
alter table notice_attachment add column kind text not null default 'image'
  check (kind in ('image', 'document'));
alter table notice_attachment add column file_name text;
